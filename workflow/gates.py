"""Approval gates between phases: decisions, edits, and the gate nodes.

A gate is a node of its own, after its phase: a resume re-runs a node from its first line, so
the phase's work never shares a node with ``interrupt()``. Decisions are validated in full
before a run is resumed (:func:`validate_decision`), so a malformed decision leaves the run
exactly where it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agents.reviewer.assemble import GATE_SCORES, gate_findings
from agents.run_context import RunContext, today
from workflow.domain.bands import CLOSED_STATUSES
from workflow.domain.baseline import phase_drift
from workflow.domain.errors import ConfigError, DecisionError, InventoryError
from workflow.domain.run import Decision
from workflow.domain.run_state import ThreatModelState, findings_key
from workflow.domain.safe_yaml import Limits, decode, parse_documents
from workflow.domain.threat_model import (
    PHASES,
    Approval,
    Finding,
    FindingStatus,
    Note,
    Phase,
    PhaseStatus,
    Severity,
    Triage,
    TriageSource,
    TriageState,
)
from workflow.domain.triage import TriageDecision, evidence_hash, triage_message

__all__ = [
    "CHANGED",
    "FindingEdit",
    "PhaseDecision",
    "PhaseEdits",
    "apply_edits",
    "edit_findings",
    "gate_name",
    "load_edits",
    "make_gate",
    "parse_approval_policy",
    "triage_decisions",
    "validate_decision",
    "validate_edits",
]

#: The approval policy that stops only at phases whose findings changed against the baseline.
CHANGED = "changed"


class FindingEdit(BaseModel):
    """One edit of one finding.

    An accepted risk needs an ``owner``, a ``reason`` and an ``expires`` date; a finding
    marked mitigated or false positive may carry them too. The decision is stored for the
    application and re-applied in later runs while the finding's evidence is unchanged.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    remove: bool = False
    severity: Severity | None = None
    status: FindingStatus | None = None
    note: str | None = Field(default=None, max_length=10_000)
    reason: str | None = Field(default=None, max_length=10_000)
    owner: str | None = Field(default=None, min_length=1, max_length=200)
    expires: date | None = None

    @field_validator("note", "reason", "owner")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value


class PhaseEdits(BaseModel):
    """A reviewer's edits of a phase's findings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    edits: tuple[FindingEdit, ...] = Field(min_length=1)


class PhaseDecision(BaseModel):
    """A reviewer's decision at a gate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phase: Phase
    decision: Decision
    by: str = Field(min_length=1, max_length=200)
    comment: str = Field(default="", max_length=10_000)
    at: datetime
    edits: PhaseEdits | None = None


def parse_approval_policy(value: str | None) -> list[str]:
    """``none``, ``each``, ``changed`` or a list of phases -> the phases that need approval.

    ``changed`` gives ``["changed"]``: every phase whose findings changed against the run's
    baseline stops (new, resolved, or changed evidence or status).

    Raises:
        DecisionError: an unknown phase name.
    """
    text = (value or "none").strip().lower()
    if text in {"", "none"}:
        return []
    if text == CHANGED:
        return [CHANGED]
    if text in {"each", "all"}:
        return [p.value for p in PHASES]
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in {p.value for p in PHASES}]
    if unknown:
        raise ConfigError(f"--approval: unknown phase {', '.join(unknown)}; use none, each, "
                          f"changed or phases from: {', '.join(p.value for p in PHASES)}")
    return [p.value for p in PHASES if p.value in names]


#: What an edits file may hold: 1 MB, read like a manifest (no YAML bomb, no duplicate key).
_EDITS_LIMITS = Limits(max_file_bytes=1_000_000, max_documents=1_000, max_depth=64,
                       max_aliases=1_000, max_nodes=200_000, max_object_bytes=8 * 1024 * 1024,
                       max_input_bytes=8 * 1024 * 1024, max_containers=0,
                       max_total_containers=0)


def load_edits(path: str | Path) -> PhaseEdits:
    """Read an edits file (YAML or JSON: ``{edits: [{id, remove+reason|severity|status|note}]}``).

    It is parsed like a manifest (:mod:`workflow.domain.safe_yaml`): a key written twice in a
    mapping is refused with its line rather than the last one applied.

    Raises:
        DecisionError: the file is missing, unreadable or malformed.
    """
    label = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DecisionError(f"{label}: cannot read edits file: {exc.strerror or exc}") from None
    if len(raw) > _EDITS_LIMITS.max_file_bytes:
        raise DecisionError(f"{label}: edits file is larger than 1 MB")
    try:
        docs = parse_documents(label, decode(label, raw), _EDITS_LIMITS)
    except InventoryError as exc:
        raise DecisionError(str(exc)) from None
    if len(docs) > 1:
        raise DecisionError(f"{label}: an edits file holds one YAML document, this one has "
                            f"{len(docs)}")
    data = docs[0].body if docs else None
    if isinstance(data, list):
        data = {"edits": data}
    try:
        return PhaseEdits.model_validate(data)
    except ValidationError as exc:
        raise DecisionError(f"{label}: {_first_problem(exc)}") from None


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where or 'edits'}: {err.get('msg', 'invalid')}"


def validate_decision(decision: PhaseDecision, findings: dict[str, Any], *,
                      on: date | None = None) -> None:
    """Check a decision against the phase's findings before the run is resumed.

    Raises:
        DecisionError: an edit names a finding that is not in the phase, contradicts itself,
            changes nothing, removes a finding without a reason, or accepts a risk without an
            owner, a reason and an expiry date to come.
    """
    if decision.edits is None:
        return
    if decision.decision is Decision.REJECTED:
        raise DecisionError("a rejection takes a reason, not edits")
    in_phase = {fid: f for fid, f in findings.items()
                if f.get("phase") == decision.phase.value}
    validate_edits(decision.edits, in_phase, where=f"the {decision.phase.value} phase", on=on)


def validate_edits(edits: PhaseEdits, findings: dict[str, Any], *, where: str,
                   on: date | None = None) -> None:
    """Check edits against the findings (JSON, by id) they may name, ``where`` in messages.

    Raises:
        DecisionError: as :func:`validate_decision`.
    """
    seen: set[str] = set()
    for edit in edits.edits:
        if edit.id not in findings:
            raise DecisionError(f"edit names finding {edit.id!r}, which is not a finding of "
                                f"{where}")
        if edit.id in seen:
            raise DecisionError(f"finding {edit.id!r} is edited twice")
        seen.add(edit.id)
        _check_edit(edit, findings[edit.id], on or today())


def _check_edit(edit: FindingEdit, finding: dict[str, Any], on: date) -> None:
    fid = edit.id
    if edit.remove and (edit.severity or edit.status or edit.owner or edit.expires):
        raise DecisionError(f"finding {fid!r}: remove cannot be combined with changes")
    if edit.remove and not edit.reason:
        raise DecisionError(f"finding {fid!r}: removing a finding needs a reason "
                            f"(reason: why it does not apply); it is kept with the approval")
    if edit.remove:
        return
    if not (edit.severity or edit.status or edit.note or edit.owner or edit.expires):
        raise DecisionError(f"finding {fid!r}: the edit changes nothing")
    status = edit.status or FindingStatus(finding.get("status", "open"))
    if (edit.owner or edit.expires) and status not in CLOSED_STATUSES:
        raise DecisionError(f"finding {fid!r}: owner and expires go with an accepted, "
                            f"mitigated or false_positive status")
    if edit.expires is not None and edit.expires < on:
        raise DecisionError(f"finding {fid!r}: expires {edit.expires.isoformat()} is in the "
                            f"past")
    if edit.status is FindingStatus.ACCEPTED and not (edit.owner and edit.reason
                                                      and edit.expires):
        missing = [name for name, value in (("owner", edit.owner), ("reason", edit.reason),
                                            ("expires", edit.expires)) if not value]
        raise DecisionError(f"finding {fid!r}: an accepted risk needs an owner, a reason and "
                            f"an expiry date (missing: {', '.join(missing)}; expires: "
                            f"YYYY-MM-DD)")


def apply_edits(decision: PhaseDecision, findings: dict[str, Finding], *,
                run_id: str | None = None) -> dict[str, Finding | None]:
    """The findings an approval with edits changes: the edited ones, ``None`` where removed.

    An edited finding carries the decision as its ``triage`` (taken in run ``run_id``).
    """
    if decision.edits is None:
        return {}
    return edit_findings(decision.edits.edits, findings, by=decision.by, at=decision.at,
                         run_id=run_id)


def edit_findings(edits: Iterable[FindingEdit], findings: dict[str, Finding], *, by: str,
                  at: datetime, run_id: str | None) -> dict[str, Finding | None]:
    """Edits applied to findings by id (``None`` where removed), each with its ``triage``."""
    edited: dict[str, Finding | None] = {}
    for edit in edits:
        if edit.remove:
            edited[edit.id] = None
            continue
        finding = findings[edit.id]
        changes: dict[str, Any] = {}
        if edit.severity is not None:
            changes["severity_override"] = edit.severity
            changes["severity"] = edit.severity
        if edit.status is not None:
            changes["status"] = edit.status
        if edit.note is not None:
            changes["notes"] = (*finding.notes, Note(by=by, at=at, text=edit.note))
        updated = finding.model_copy(update=changes)
        earlier = finding.triage if (finding.triage is not None and finding.triage.state
                                     is TriageState.APPLIED) else None
        owner = edit.owner or (earlier.owner if earlier else None)
        reason = edit.reason or (earlier.reason if earlier else None)
        expires = edit.expires or (earlier.expires if earlier else None)
        if updated.status not in CLOSED_STATUSES:
            owner = expires = None
        triage = Triage(
            state=TriageState.APPLIED, source=TriageSource.REVIEW, status=updated.status,
            severity=updated.severity_override, owner=owner, reason=reason, expires=expires,
            by=by, at=at, run_id=run_id,
            message=triage_message(TriageState.APPLIED, TriageSource.REVIEW, updated.status,
                                   by=by, at=at, owner=owner, reason=reason, expires=expires,
                                   severity=updated.severity_override))
        edited[edit.id] = updated.model_copy(update={"triage": triage})
    return edited


def triage_decisions(edited: dict[str, Finding | None]) -> list[TriageDecision]:
    """The decisions to store for the application: one per edited finding (not removals)."""
    out = []
    for finding in edited.values():
        if finding is None or finding.triage is None:
            continue
        triage = finding.triage
        out.append(TriageDecision(
            finding=finding.id, rule=finding.rule, phase=finding.phase.value,
            evidence=evidence_hash(finding.evidence), status=triage.status,
            severity=triage.severity, notes=finding.notes, owner=triage.owner,
            reason=triage.reason, expires=triage.expires, by=triage.by or "unknown",
            at=triage.at or now(), run_id=triage.run_id))
    return out


def pending_payload(phase: Phase, state: ThreatModelState, ctx: RunContext) -> dict[str, Any]:
    """What a gate shows the reviewer: the phase and its findings, scored for publication.

    The findings carry the scores the reviewer will publish and why they moved
    (``score_factors``); ``scores`` says what those scores are. The risk review's gate shows its
    attack paths too. With a baseline, ``drift`` names what the phase found new, changed and
    resolved against it.
    """
    findings = gate_findings(state, ctx, phase)
    payload: dict[str, Any] = {
        "phase": phase.value, "findings": [f.model_dump(mode="json") for f in findings],
        "scores": GATE_SCORES}
    if phase is Phase.RISK_REVIEW:
        payload["attack_paths"] = list(state.get("attack_paths") or [])
    if ctx.baseline is not None:
        drift = phase_drift(phase, findings, ctx.baseline)
        payload["drift"] = {"baseline": ctx.baseline.ref, "new": list(drift.new),
                            "changed": list(drift.changed), "resolved": list(drift.resolved)}
    return payload


def _stops(phase: Phase, state: ThreatModelState, ctx: RunContext) -> bool:
    """Whether the run's approval policy stops after ``phase``."""
    policy = state.get("approval") or []
    if CHANGED in policy:
        return bool(phase_drift(phase, ctx.findings.get(phase, {}).values(), ctx.baseline))
    return phase.value in policy


def gate_name(phase: Phase) -> str:
    """The node name of a phase's gate."""
    return f"gate_{phase.value}"


def make_gate(phase: Phase) -> Callable[[ThreatModelState, Runtime[RunContext]], dict[str, Any]]:
    """The gate node that follows ``phase``.

    An approval's edits change the phase's findings in the state and on the run context alike.
    """

    def gate(state: ThreatModelState, runtime: Runtime[RunContext]) -> dict[str, Any]:
        if not _stops(phase, state, runtime.context):
            return {}
        answer = interrupt(pending_payload(phase, state, runtime.context))
        decision = PhaseDecision.model_validate(answer)
        approval = Approval(
            decision=decision.decision, by=decision.by, comment=decision.comment,
            at=decision.at,
            edits=decision.edits.model_dump(mode="json") if decision.edits else None)
        record: dict[str, Any] = {"approval": approval.model_dump(mode="json")}
        if decision.decision is Decision.REJECTED:
            record["status"] = PhaseStatus.REJECTED.value
            return {"phases": {phase.value: record}, "rejected": phase.value}
        record["status"] = PhaseStatus.APPROVED.value
        findings = runtime.context.findings.setdefault(phase, {})
        edited = apply_edits(decision, findings, run_id=state.get("run_id"))
        for fid, finding in edited.items():
            if finding is None:
                findings.pop(fid, None)
            else:
                findings[fid] = finding
        record["findings"] = sum(1 for f in findings.values() if f.phase is phase)
        return {"phases": {phase.value: record}, findings_key(phase): {
            fid: None if f is None else f.model_dump(mode="json") for fid, f in edited.items()}}

    gate.__name__ = gate_name(phase)
    return gate


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def decision_json(decision: PhaseDecision) -> dict[str, Any]:
    """A decision as the resume value of the interrupt."""
    value: dict[str, Any] = json.loads(decision.model_dump_json())
    return value
