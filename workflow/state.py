"""The graph state and its reducers.

State holds only JSON-ready values (dicts of model dumps): checkpoints stay readable whatever
the class layout, and every node validates what it reads. Findings live in a keyed reducer, so
a node that re-runs after a crash or resume upserts the same ids instead of appending copies.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

__all__ = ["ThreatModelState", "merge_findings", "merge_records"]


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
    findings: Annotated[dict[str, Any], merge_findings]
    phases: Annotated[dict[str, Any], merge_records]
    guidance: Annotated[dict[str, Any], merge_records]
    degradations: Annotated[dict[str, Any], merge_records]
    usage: Annotated[dict[str, Any], merge_records]
    prompts: Annotated[dict[str, Any], merge_records]
    architecture: dict[str, Any]
    extras: Annotated[dict[str, Any], merge_records]
    rejected: str | None
    threat_model: dict[str, Any] | None
