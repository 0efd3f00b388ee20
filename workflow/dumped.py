"""Models dumped into the graph state, recognised again in the same process.

Phase nodes put their findings into the LangGraph state as JSON dicts (what the checkpointer
stores), and the reviewer puts the threat model there; the nodes and steps that follow need them
back as models. Re-validating thousands of dicts that this very process has just produced from
validated models is wasted work (seconds at 5,000 objects), so each dump is remembered for its
run by the identity of the dict object: the exact same object maps back to its model. A dict
that came from a checkpoint (a resumed run, another process, an edited finding) is another
object and is validated as usual. Nothing mutates state dicts in place (reducers build new
dicts), so identity is a sound test. The reviewer uses the same map for its summary marker,
which stands for the final model (kept out of the checkpoints).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from workflow.recent import Recent

__all__ = ["dump", "forget", "load", "recall", "remember"]

_M = TypeVar("_M", bound=BaseModel)

#: Per run (the last few runs): id of a dumped value -> (that value, its model).
_runs: Recent[str, dict[int, tuple[Any, BaseModel]]] = Recent(4)


def remember(run_id: str, data: Any, model: BaseModel) -> None:
    """Map the state value ``data`` (this very object) back to ``model`` for this run."""
    _runs.get_or_put(run_id, dict)[id(data)] = (data, model)


def dump(run_id: str, model: BaseModel) -> dict[str, Any]:
    """``model`` as a JSON dict for the state, remembered for this run."""
    data = model.model_dump(mode="json")
    remember(run_id, data, model)
    return data


def recall(run_id: str, data: Any, cls: type[_M]) -> _M | None:
    """The model remembered for ``data`` in this process, or None."""
    entries = _runs.get(run_id)
    hit = entries.get(id(data)) if entries is not None else None
    if hit is not None and hit[0] is data and isinstance(hit[1], cls):
        return hit[1]
    return None


def load(run_id: str, data: Any, cls: type[_M]) -> _M:
    """The model behind a state value: the remembered one if this process dumped ``data``."""
    return recall(run_id, data, cls) or cls.model_validate(data)


def forget(run_id: str) -> None:
    """Drop what is remembered for a run."""
    _runs.pop(run_id)
