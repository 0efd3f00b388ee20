"""A run's checkpointed state (what the LangGraph graph carries) and its reducers.

State holds only JSON-ready values (dicts of model dumps): checkpoints stay readable whatever
the class layout, and every node validates what it reads. Findings live in keyed reducers, so
a node that re-runs after a crash or resume upserts the same ids instead of appending copies.

Each phase has its own findings channel (``findings_<phase>``): the checkpointer stores a channel
whole whenever it changes, so one shared channel would be rewritten with every earlier phase's
findings at every step (47 MB instead of 7 MB of checkpoints at 5,000 objects). A phase node and
the gate after it are the only writers of their phase's channel; ``all_findings`` reads them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Annotated, Any, TypedDict, get_type_hints

from workflow.domain.run import RunOptions
from workflow.domain.threat_model import PHASES, Phase

__all__ = ["ThreatModelState", "all_findings", "apply_update", "findings_key", "initial_state",
           "merge_findings", "merge_records", "phase_findings"]


def merge_findings(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Upsert findings by id; a ``None`` value deletes that id."""
    merged = dict(left or {})
    for key, value in (right or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def merge_records(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Merge per-key records: a key's dict is updated field by field, other values replaced."""
    merged = dict(left or {})
    for key, value in (right or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


class ThreatModelState(TypedDict, total=False):
    """What flows through the graph (all JSON-ready)."""

    run_id: str
    application: str
    inputs: dict[str, Any]
    inputs_digest: str
    approval: list[str]
    llm: dict[str, Any] | None
    findings_architecture: Annotated[dict[str, Any], merge_findings]
    findings_identity: Annotated[dict[str, Any], merge_findings]
    findings_data: Annotated[dict[str, Any], merge_findings]
    findings_logging: Annotated[dict[str, Any], merge_findings]
    findings_network: Annotated[dict[str, Any], merge_findings]
    findings_controls: Annotated[dict[str, Any], merge_findings]
    findings_compliance: Annotated[dict[str, Any], merge_findings]
    findings_risk_review: Annotated[dict[str, Any], merge_findings]
    phases: Annotated[dict[str, Any], merge_records]
    guidance: Annotated[dict[str, Any], merge_records]
    degradations: Annotated[dict[str, Any], merge_records]
    usage: Annotated[dict[str, Any], merge_records]
    prompts: Annotated[dict[str, Any], merge_records]
    architecture: dict[str, Any]
    #: The risk review's attack paths (what its gate shows); the reviewer recomputes them.
    attack_paths: list[dict[str, Any]]
    #: Paths the model proposed in the risk review; the reviewer keeps those its graph holds.
    model_paths: list[dict[str, Any]]
    extras: Annotated[dict[str, Any], merge_records]
    rejected: str | None
    #: Set by the reviewer: a small summary ({"findings": n, "overall_risk": band}). The model
    #: itself is stored by the run (threat_models table), not in every checkpoint.
    reviewed: dict[str, Any] | None
    #: The application's stored triage decisions when the run started ({"decisions": [...]}),
    #: so a resumed run re-applies the same ones.
    triage: dict[str, Any] | None
    #: The baseline the run is compared with (a BaselineSnapshot), or None.
    baseline: dict[str, Any] | None


def findings_key(phase: Phase) -> str:
    """The state channel that holds one phase's findings."""
    return f"findings_{phase.value}"


def phase_findings(state: Mapping[str, Any], phase: Phase) -> dict[str, Any]:
    """One phase's findings by id."""
    return dict(state.get(findings_key(phase)) or {})


def all_findings(state: Mapping[str, Any]) -> dict[str, Any]:
    """Every phase's findings by id, in phase order."""
    merged: dict[str, Any] = {}
    for phase in PHASES:
        merged.update(state.get(findings_key(phase)) or {})
    return merged


def initial_state(*, run_id: str, application: str, inputs_snapshot: dict[str, Any],
                  inputs_digest: str, approval: list[str],
                  options: RunOptions | None = None,
                  triage: list[dict[str, Any]] | None = None,
                  baseline: dict[str, Any] | None = None) -> ThreatModelState:
    """The state a run starts from.

    The run's ``classification`` and ``cloud`` options go to its extras; ``llm`` stays empty
    until a phase that used a model records which one. ``triage`` are the application's stored
    decisions (JSON) and ``baseline`` the snapshot of the model it is compared with.
    """
    options = options or RunOptions()
    return {
        "run_id": run_id, "application": application, "inputs": inputs_snapshot,
        "inputs_digest": inputs_digest, "approval": approval, "llm": None,
        "phases": {}, "guidance": {}, "degradations": {}, "usage": {}, "prompts": {},
        "extras": {"classification": options.classification, "cloud": options.cloud},
        "rejected": None, "reviewed": None, "triage": {"decisions": list(triage or [])},
        "baseline": baseline}


Reducer = Callable[[Any, Any], Any]


@cache
def _reducers() -> dict[str, Reducer]:
    """Each channel's reducer, read from the ``Annotated`` hints as LangGraph reads them."""
    reducers: dict[str, Reducer] = {}
    for name, hint in get_type_hints(ThreatModelState, include_extras=True).items():
        metadata = getattr(hint, "__metadata__", ())
        if metadata and callable(metadata[-1]):
            reducers[name] = metadata[-1]
    return reducers


def apply_update(state: ThreatModelState, update: Mapping[str, Any]) -> ThreatModelState:
    """``state`` with a node's ``update`` applied through the channels' reducers.

    What the graph does between two nodes, for callers that run the phases without it
    (``ktmb scan``); channels without a reducer are replaced.
    """
    merged: dict[str, Any] = dict(state)
    reducers = _reducers()
    for key, value in update.items():
        reducer = reducers.get(key)
        merged[key] = reducer(merged.get(key), value) if reducer is not None else value
    return merged  # type: ignore[return-value]
