"""workflow.dumped: models dumped into the state map back by identity, anything else validates."""

from __future__ import annotations

import copy

from workflow import dumped
from workflow.domain.threat_model import Citation


def _citation(chunk: str = "c1") -> Citation:
    return Citation(document="doc", section="s", chunk_id=chunk)


def test_the_dumped_dict_maps_back_to_its_model() -> None:
    """The very dict a dump returned gives back the same model object."""
    model = _citation()
    data = dumped.dump("run-a", model)
    assert data == model.model_dump(mode="json")
    assert dumped.load("run-a", data, Citation) is model


def test_an_equal_copy_or_another_run_is_validated() -> None:
    """A dict from a checkpoint (another object) or another run is validated, not recalled."""
    model = _citation()
    data = dumped.dump("run-b", model)
    again = dumped.load("run-b", copy.deepcopy(data), Citation)
    assert again == model and again is not model
    assert dumped.load("run-other", data, Citation) is not model


def test_only_the_latest_runs_are_kept() -> None:
    """Old runs are forgotten, so a long-lived service does not grow without bound."""
    kept = {f"run-{i}": dumped.dump(f"run-{i}", _citation(str(i))) for i in range(6)}
    assert dumped.load("run-0", kept["run-0"], Citation) == _citation("0")
    assert dumped.load("run-5", kept["run-5"], Citation).chunk_id == "5"
    assert len(dumped._runs) <= dumped._runs.size
    assert dumped.recall("run-0", kept["run-0"], Citation) is None  # dropped: the oldest
    dumped.forget("run-5")
    assert dumped._runs.get("run-5") is None
