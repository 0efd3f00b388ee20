"""Drift against a baseline model: every finding and attack path new, changed or unchanged.

A run (``ktmb run --baseline RUN_ID|FILE``, by default the application's latest completed run)
or a scan (``ktmb scan --baseline FILE``) keeps a compact :class:`BaselineSnapshot` of the
baseline model: each finding's assessment (effective severity, score, status and a digest of
its evidence) and each attack path. Findings are matched by fingerprint; one is *changed* when
its severity, score, status or evidence differ (line numbers alone do not count), the rule that
``ktmb diff`` applies too. The reviewers' decisions that hold in the baseline model come along,
so a scan compared with a reviewed model (which reads no stored decisions) keeps them too.
Attack paths are matched by id and changed when their steps,
findings or target differ. What the baseline had and this model has not is *resolved*, listed
in the model's ``baseline`` (not as findings).

At a gate (``--approval changed``) the phase is compared before the reviewer scores it, so only
what the phase itself decides counts: new and resolved findings, and changed evidence or
status (:func:`phase_drift`); score changes show in the final model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from workflow.domain.bands import FindingStatus, Severity
from workflow.domain.marks import (
    BaselineComparison,
    BaselineMark,
    BaselineState,
    Previous,
    ResolvedFinding,
)
from workflow.domain.threat_model import AttackPath, Finding, Phase, ThreatModel
from workflow.domain.triage import TriageDecision, decisions_of, evidence_hash

__all__ = ["BaselineEntry", "BaselinePath", "BaselineSnapshot", "PhaseDrift",
           "changed_fields", "entry_of", "gate_marks", "mark_model", "phase_drift"]


class BaselineEntry(BaseModel):
    """What the baseline said of one finding."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phase: Phase
    rule: str
    title: str
    severity: Severity
    score: float
    status: FindingStatus
    evidence: str


class BaselinePath(BaseModel):
    """One attack path of the baseline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str = ""
    steps: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()

    @classmethod
    def of(cls, path: AttackPath) -> BaselinePath:
        """What identifies a path's route: its target, each hop's attack, and its findings."""
        return cls(target=f"{path.target.kind}:{path.target.ref or ''}",
                   steps=tuple(f"{hop.source} -{hop.attack}-> {hop.to}" for hop in path.hops),
                   findings=path.findings)


class BaselineSnapshot(BaseModel):
    """The part of a baseline model a comparison needs (kept in the run's state)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: str
    run_id: str
    findings: dict[str, BaselineEntry] = Field(default_factory=dict)
    attack_paths: dict[str, BaselinePath] = Field(default_factory=dict)
    #: The reviewers' decisions that hold in the baseline model: a run or scan compared with it
    #: re-applies them where no stored decision of its own applies (a scan has none).
    decisions: tuple[TriageDecision, ...] = ()

    @classmethod
    def of_model(cls, model: ThreatModel, ref: str) -> BaselineSnapshot:
        """The snapshot of a threat model, named as the user named it (``ref``)."""
        return cls(ref=ref, run_id=model.run_id,
                   findings={f.id: entry_of(f) for f in model.findings},
                   attack_paths={p.id: BaselinePath.of(p) for p in model.attack_paths},
                   decisions=tuple(decisions_of(model.findings)))


def entry_of(finding: Finding) -> BaselineEntry:
    """A finding's assessment as a baseline keeps it."""
    return BaselineEntry(phase=finding.phase, rule=finding.rule, title=finding.title,
                         severity=finding.effective_severity, score=finding.score,
                         status=finding.status, evidence=evidence_hash(finding.evidence))


def changed_fields(before: BaselineEntry, after: Finding) -> tuple[str, ...]:
    """What moved between a baseline's finding and this one: severity, score, status, evidence."""
    now = entry_of(after)
    return tuple(name for name in ("severity", "score", "status", "evidence")
                 if getattr(before, name) != getattr(now, name))


def _mark(finding: Finding, snapshot: BaselineSnapshot) -> BaselineMark:
    before = snapshot.findings.get(finding.id)
    if before is None:
        return BaselineMark(state=BaselineState.NEW)
    fields = changed_fields(before, finding)
    if not fields:
        return BaselineMark(state=BaselineState.UNCHANGED)
    return BaselineMark(state=BaselineState.CHANGED, fields=fields, previous=Previous(
        severity=before.severity, score=before.score, status=before.status))


def gate_marks(findings: Sequence[Finding],
               snapshot: BaselineSnapshot | None) -> list[Finding]:
    """A phase's findings at its gate, marked as :func:`phase_drift` counts them."""
    if snapshot is None:
        return list(findings)
    marked = []
    for finding in findings:
        mark = _mark(finding, snapshot)
        if mark.state is BaselineState.CHANGED:
            fields = tuple(f for f in mark.fields if f in {"status", "evidence"})
            mark = (mark.model_copy(update={"fields": fields}) if fields
                    else BaselineMark(state=BaselineState.UNCHANGED))
        marked.append(finding.model_copy(update={"baseline": mark}))
    return marked


def _path_state(path: AttackPath, snapshot: BaselineSnapshot) -> BaselineState:
    before = snapshot.attack_paths.get(path.id)
    if before is None:
        return BaselineState.NEW
    return BaselineState.UNCHANGED if before == BaselinePath.of(path) else BaselineState.CHANGED


def mark_model(findings: Sequence[Finding], paths: Sequence[AttackPath],
               snapshot: BaselineSnapshot) -> tuple[tuple[Finding, ...], tuple[AttackPath, ...],
                                                    BaselineComparison]:
    """The findings and attack paths marked against ``snapshot``, and the comparison."""
    marked = tuple(f.model_copy(update={"baseline": _mark(f, snapshot)}) for f in findings)
    now = {f.id for f in findings}
    resolved = tuple(
        ResolvedFinding(id=fid, rule=e.rule, title=e.title, phase=e.phase.value,
                        severity=e.severity, status=e.status)
        for fid, e in sorted(snapshot.findings.items()) if fid not in now)
    counts = {state.value: 0 for state in BaselineState}
    for finding in marked:
        assert finding.baseline is not None  # noqa: S101 - set just above
        counts[finding.baseline.state.value] += 1
    counts[BaselineState.RESOLVED.value] = len(resolved)
    marked_paths = tuple(p.model_copy(update={"baseline": _path_state(p, snapshot)})
                         for p in paths)
    by_state: dict[str, tuple[str, ...]] = {state.value: () for state in BaselineState}
    for path in marked_paths:
        assert path.baseline is not None  # noqa: S101 - set just above
        by_state[path.baseline.value] += (path.id,)
    by_state[BaselineState.RESOLVED.value] = tuple(
        sorted(set(snapshot.attack_paths) - {p.id for p in paths}))
    return marked, marked_paths, BaselineComparison(
        ref=snapshot.ref, run_id=snapshot.run_id, counts=counts, resolved=resolved,
        attack_paths=by_state)


@dataclass(frozen=True)
class PhaseDrift:
    """What one phase found against the baseline: ids new, changed (evidence or status), gone."""

    new: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    resolved: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.new or self.changed or self.resolved)


def phase_drift(phase: Phase, findings: Iterable[Finding],
                snapshot: BaselineSnapshot | None) -> PhaseDrift:
    """A phase's findings against the baseline (everything is new without one)."""
    own = [f for f in findings if f.phase is phase]
    if snapshot is None:
        return PhaseDrift(new=tuple(sorted(f.id for f in own)))
    new, changed = [], []
    for finding in own:
        before = snapshot.findings.get(finding.id)
        if before is None:
            new.append(finding.id)
        elif {"status", "evidence"} & set(changed_fields(before, finding)):
            changed.append(finding.id)
    ids = {f.id for f in own}
    resolved = sorted(fid for fid, e in snapshot.findings.items()
                      if e.phase is phase and fid not in ids)
    return PhaseDrift(new=tuple(sorted(new)), changed=tuple(sorted(changed)),
                      resolved=tuple(resolved))
