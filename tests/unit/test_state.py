"""The graph state's reducers: keyed, idempotent, with deletion."""

from __future__ import annotations

from typing import get_type_hints

from workflow.domain.run import RunOptions
from workflow.domain.run_state import ThreatModelState, merge_findings, merge_records
from workflow.domain.threat_model import PHASES


def test_merge_findings_upserts_by_id() -> None:
    """New ids are added, existing ids replaced."""
    left = {"a": {"id": "a", "v": 1}, "b": {"id": "b", "v": 1}}
    right = {"b": {"id": "b", "v": 2}, "c": {"id": "c", "v": 1}}
    expected = {"a": {"id": "a", "v": 1}, "b": {"id": "b", "v": 2}, "c": {"id": "c", "v": 1}}
    assert expected == merge_findings(left, right)


def test_merge_findings_is_idempotent() -> None:
    """Applying the same update twice (a node that re-ran) changes nothing more."""
    update = {"a": {"id": "a"}, "b": {"id": "b"}}
    once = merge_findings({}, update)
    assert once == merge_findings(once, update)
    assert 2 == len(merge_findings(once, update))


def test_merge_findings_none_deletes() -> None:
    """A None value removes that id; deleting a missing id is harmless."""
    left = {"a": {"id": "a"}, "b": {"id": "b"}}
    assert {"b": {"id": "b"}} == merge_findings(left, {"a": None, "zz": None})


def test_merge_findings_does_not_mutate_inputs() -> None:
    """The reducer returns a new dict and leaves both sides untouched."""
    left = {"a": {"id": "a"}}
    right = {"a": None}
    merge_findings(left, right)
    assert ({"a": {"id": "a"}}, {"a": None}) == (left, right)


def test_merge_findings_accepts_missing_sides() -> None:
    """None on either side is treated as empty."""
    assert ({}, {"a": 1}, {"a": 1}) == (merge_findings(None, None), merge_findings(None, {"a": 1}),
                                        merge_findings({"a": 1}, None))


def test_merge_records_merges_fields() -> None:
    """A record is updated field by field (a gate adds approval to the phase's record)."""
    left = {"network": {"status": "completed", "findings": 3}}
    right = {"network": {"status": "approved", "approval": {"by": "ann"}}}
    expected = {"network": {"status": "approved", "findings": 3, "approval": {"by": "ann"}}}
    assert expected == merge_records(left, right)


def test_merge_records_replaces_and_deletes() -> None:
    """Non-dict values replace; None deletes the key."""
    left = {"a": "old", "b": {"x": 1}, "c": 1}
    assert {"a": "new", "c": 1} == merge_records(left, {"a": "new", "b": None})


def test_merge_records_dict_over_scalar_replaces() -> None:
    """A dict over a scalar (or a scalar over a dict) replaces it."""
    assert {"a": {"x": 1}, "b": 2} == merge_records({"a": 1, "b": {"y": 1}},
                                                   {"a": {"x": 1}, "b": 2})


def test_state_channels_have_reducers() -> None:
    """Accumulating channels are annotated with the keyed reducers."""
    hints = get_type_hints(ThreatModelState, include_extras=True)
    reducers = {name: getattr(hint, "__metadata__", (None,))[0]
                for name, hint in hints.items() if hasattr(hint, "__metadata__")}
    assert {**{f"findings_{p.value}": merge_findings for p in PHASES},
            "phases": merge_records, "guidance": merge_records,
            "degradations": merge_records, "usage": merge_records, "prompts": merge_records,
            "extras": merge_records} == reducers


def test_apply_update_uses_each_channels_reducer() -> None:
    """Reducer channels merge as the graph merges them; plain channels are replaced."""
    from workflow.domain.run_state import apply_update, initial_state

    state = initial_state(run_id="r", application="a", inputs_snapshot={}, inputs_digest="d",
                          approval=[], options=RunOptions(classification="pci"))
    state = apply_update(state, {"findings_data": {"x": {"id": "x"}},
                                 "phases": {"data": {"status": "completed"}},
                                 "architecture": {"components": [1]}})
    state = apply_update(state, {"findings_data": {"y": {"id": "y"}, "x": None},
                                 "phases": {"data": {"findings": 1}},
                                 "architecture": {"components": [2]}})
    assert {"y": {"id": "y"}} == state["findings_data"]
    assert {"data": {"status": "completed", "findings": 1}} == state["phases"]
    assert {"components": [2]} == state["architecture"]
    assert {"classification": "pci", "cloud": None} == state["extras"]


def test_initial_state_has_every_channel() -> None:
    """The start state names every channel but those the phases add (findings, architecture,
    the risk review's attack paths)."""
    from workflow.domain.run_state import findings_key, initial_state

    state = initial_state(run_id="r", application="a", inputs_snapshot={}, inputs_digest="d",
                          approval=["data"])
    findings = {findings_key(p) for p in PHASES}
    added = {"architecture", "attack_paths", "model_paths"}
    assert set(get_type_hints(ThreatModelState)) - findings - added == set(state)
