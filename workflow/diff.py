"""Compare two threat models of the same application: new, changed, unchanged, resolved.

Findings are matched by fingerprint (``<rule>@<resource>[#detail]``), which does not depend on
unrelated manifests, so a diff shows what a change to the manifests did. A finding is *changed*
when its effective severity, score, status or evidence differ (line numbers alone do not count:
moving a document in a file is not a change of risk): the rule of
:func:`workflow.domain.baseline.changed_fields`, which ``--baseline`` marks with too. Attack
paths are matched by id; findings reopened by their triage (changed since triage, expired) are
listed too.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflow.domain.baseline import BaselinePath, BaselineSnapshot, changed_fields, entry_of
from workflow.domain.marks import TriageState
from workflow.domain.threat_model import Evidence, Finding, Severity, ThreatModel

__all__ = [
    "FindingChange", "ModelDiff", "diff_models", "json_payload", "render_json", "render_text",
]

_ORDER = [s.value for s in Severity]


class FindingChange(BaseModel):
    """A finding present in both models whose assessment moved."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    fields: tuple[str, ...]
    before: dict[str, Any]
    after: dict[str, Any]


class ModelDiff(BaseModel):
    """What changed between an old and a new threat model."""

    model_config = ConfigDict(frozen=True)

    old_run: str
    new_run: str
    new: tuple[Finding, ...] = ()
    resolved: tuple[Finding, ...] = ()
    changed: tuple[FindingChange, ...] = ()
    unchanged: tuple[str, ...] = ()
    overall_risk: tuple[str, str] = Field(description="Overall risk before and after.")
    reopened: tuple[Finding, ...] = Field(
        default=(), description="New model's findings whose triage no longer holds.")
    attack_paths: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="Attack path ids: new, changed, resolved, unchanged.")

    @property
    def has_changes(self) -> bool:
        """True when anything was added, resolved or changed."""
        return bool(self.new or self.resolved or self.changed
                    or self.attack_paths.get("new") or self.attack_paths.get("resolved")
                    or self.attack_paths.get("changed"))


def _evidence_key(items: tuple[Evidence, ...]) -> list[tuple[str, str, str | None]]:
    return sorted({(e.resource, e.path, e.value) for e in items})


def _values(finding: Finding) -> dict[str, Any]:
    return {"severity": finding.effective_severity.value, "score": finding.score,
            "status": finding.status.value, "evidence": _evidence_key(finding.evidence)}


def _compare(old: Finding, new: Finding) -> FindingChange | None:
    fields = changed_fields(entry_of(old), new)
    if not fields:
        return None
    before, after = _values(old), _values(new)
    return FindingChange(id=new.id, title=new.title, fields=fields,
                         before={k: before[k] for k in fields},
                         after={k: after[k] for k in fields})


def _paths(old: ThreatModel, new: ThreatModel) -> dict[str, tuple[str, ...]]:
    before = BaselineSnapshot.of_model(old, old.run_id).attack_paths
    out: dict[str, list[str]] = {"new": [], "changed": [], "unchanged": [], "resolved": []}
    for path in new.attack_paths:
        was = before.get(path.id)
        if was is None:
            out["new"].append(path.id)
        elif was == BaselinePath.of(path):
            out["unchanged"].append(path.id)
        else:
            out["changed"].append(path.id)
    out["resolved"] = sorted(set(before) - {p.id for p in new.attack_paths})
    return {k: tuple(v) for k, v in out.items()}


def _rank(finding: Finding) -> tuple[int, str]:
    return (_ORDER.index(finding.effective_severity.value), finding.id)


def diff_models(old: ThreatModel, new: ThreatModel) -> ModelDiff:
    """The difference between two threat models, findings matched by fingerprint."""
    before = {f.id: f for f in old.findings}
    after = {f.id: f for f in new.findings}
    changed: list[FindingChange] = []
    unchanged: list[str] = []
    for fid in sorted(before.keys() & after.keys()):
        change = _compare(before[fid], after[fid])
        if change is None:
            unchanged.append(fid)
        else:
            changed.append(change)
    return ModelDiff(
        old_run=old.run_id, new_run=new.run_id,
        new=tuple(sorted((after[i] for i in after.keys() - before.keys()), key=_rank)),
        resolved=tuple(sorted((before[i] for i in before.keys() - after.keys()), key=_rank)),
        changed=tuple(changed), unchanged=tuple(unchanged),
        overall_risk=(old.summary.overall_risk.value, new.summary.overall_risk.value),
        reopened=tuple(f for f in new.findings if f.triage is not None
                       and f.triage.state is not TriageState.APPLIED),
        attack_paths=_paths(old, new))


def json_payload(diff: ModelDiff) -> dict[str, Any]:
    """The diff as a JSON value: what ``ktmb diff --json`` prints and ``GET /diff`` answers."""
    return {
        "old_run": diff.old_run,
        "new_run": diff.new_run,
        "overall_risk": {"old": diff.overall_risk[0], "new": diff.overall_risk[1]},
        "counts": {"new": len(diff.new), "changed": len(diff.changed),
                   "resolved": len(diff.resolved), "unchanged": len(diff.unchanged)},
        "new": [_brief(f) for f in diff.new],
        "changed": [c.model_dump(mode="json") for c in diff.changed],
        "resolved": [_brief(f) for f in diff.resolved],
        "unchanged": list(diff.unchanged),
        "reopened": [{**_brief(f), "triage": f.triage.message if f.triage else ""}
                     for f in diff.reopened],
        "attack_paths": {k: list(v) for k, v in diff.attack_paths.items()},
    }


def render_json(diff: ModelDiff) -> str:
    """The diff as JSON (stable key order), for machines."""
    return json.dumps(json_payload(diff), indent=2, sort_keys=True) + "\n"


def _brief(finding: Finding) -> dict[str, Any]:
    return {"id": finding.id, "rule": finding.rule, "title": finding.title,
            "severity": finding.effective_severity.value, "score": finding.score,
            "resources": list(finding.resources)}


def _line(mark: Literal["+", "-", "~", "!"], finding_id: str, band: str, title: str) -> str:
    return f"  {mark} [{band:<8}] {title}  ({finding_id})"


def render_text(diff: ModelDiff) -> str:
    """The diff as text for a terminal or a pull-request comment."""
    lines = [f"ktmb diff {diff.old_run} -> {diff.new_run}",
             f"overall risk: {diff.overall_risk[0]} -> {diff.overall_risk[1]}",
             f"{len(diff.new)} new, {len(diff.changed)} changed, {len(diff.resolved)} resolved, "
             f"{len(diff.unchanged)} unchanged", ""]
    if diff.new:
        lines.append("New:")
        lines += [_line("+", f.id, f.effective_severity.value, f.title) for f in diff.new]
        lines.append("")
    if diff.changed:
        lines.append("Changed:")
        for change in diff.changed:
            band = str(change.after.get("severity", ""))
            lines.append(_line("~", change.id, band or "-", change.title))
            for name in change.fields:
                if name == "evidence":
                    lines.append("      evidence changed")
                else:
                    lines.append(f"      {name}: {change.before[name]} -> {change.after[name]}")
        lines.append("")
    if diff.resolved:
        lines.append("Resolved:")
        lines += [_line("-", f.id, f.effective_severity.value, f.title) for f in diff.resolved]
        lines.append("")
    if diff.reopened:
        lines.append("Reopened (their triage no longer holds):")
        for f in diff.reopened:
            lines.append(_line("!", f.id, f.effective_severity.value, f.title))
            lines.append(f"      {f.triage.message if f.triage else ''}")
        lines.append("")
    moved = [(mark, pid) for key, mark in (("new", "+"), ("changed", "~"), ("resolved", "-"))
             for pid in diff.attack_paths.get(key, ())]
    if moved:
        lines.append("Attack paths:")
        lines += [f"  {mark} {pid}" for mark, pid in moved]
        lines.append("")
    if not diff.has_changes:
        lines.append("No changes.")
    return "\n".join(lines).rstrip() + "\n"
