"""Triage that carries over: decisions re-applied to the findings of later runs.

A decision is about one finding (its fingerprint) as it was when it was taken (a digest of its
evidence: :func:`evidence_hash`). Three places hold decisions:

- reviewers' decisions at a gate or in the UI, stored per application
  (:class:`TriageDecision`, the ``triage`` table);
- the repository's suppressions file (``ktmb-suppressions.yaml``) and
- ``ktmb.io/accept`` annotations on a resource (both :class:`Suppression`).

:meth:`TriageSet.apply` gives a finding the first decision that holds: a stored decision when
the fingerprint and the evidence are unchanged and it has not expired, else the first matching
suppression that has not expired (and whose evidence digest, if it names one, still matches).
A decision that no longer holds leaves the finding open and says why in its ``triage``
(``changed_since_triage`` or ``expired``) with the old decision, so nothing vanishes silently.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workflow.domain.bands import FindingStatus, Severity
from workflow.domain.marks import Triage, TriageSource, TriageState
from workflow.domain.threat_model import Evidence, Finding, Note

__all__ = [
    "Suppression",
    "TriageDecision",
    "TriageSet",
    "decisions_of",
    "evidence_hash",
    "triage_message",
]


def evidence_hash(evidence: Iterable[Evidence]) -> str:
    """A digest of what a finding shows: each evidence's resource, path and value.

    Files and lines are left out: moving a document inside a file changes no risk.
    """
    items = sorted({(e.resource, e.path, e.value or "") for e in evidence})
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()


class TriageDecision(BaseModel):
    """A reviewer's decision on a finding, as stored for its application."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    finding: str = Field(description="The finding's fingerprint.")
    rule: str
    phase: str
    evidence: str = Field(description="evidence_hash of the finding when it was decided.")
    status: FindingStatus
    severity: Severity | None = None
    notes: tuple[Note, ...] = ()
    owner: str | None = None
    reason: str | None = None
    expires: date | None = None
    by: str
    at: datetime
    run_id: str | None = None


def decisions_of(findings: Iterable[Finding]) -> list[TriageDecision]:
    """The reviewers' decisions that hold in a model's findings, as decisions to re-apply.

    What a baseline model brings to a run or scan compared with it: its findings' review
    decisions (at a gate or in the UI, carried or new) with the evidence they hold for.
    """
    out = []
    for finding in findings:
        triage = finding.triage
        if (triage is None or triage.state is not TriageState.APPLIED
                or triage.source is not TriageSource.REVIEW or triage.by is None
                or triage.at is None):
            continue
        out.append(TriageDecision(
            finding=finding.id, rule=finding.rule, phase=finding.phase.value,
            evidence=evidence_hash(finding.evidence), status=triage.status,
            severity=triage.severity, notes=finding.notes, owner=triage.owner,
            reason=triage.reason, expires=triage.expires, by=triage.by, at=triage.at,
            run_id=triage.run_id))
    return out


class Suppression(BaseModel):
    """A decision kept in the repository: an entry of the suppressions file or an annotation.

    It names one finding (``id``) or a rule (``rule``, a glob) with an optional resource glob
    (``resource``: ``Deployment/shop/*``); it needs a reason and an expiry, and an accepted
    risk an owner. ``evidence``, when given, is a prefix of the finding's evidence digest the
    decision was taken on.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str | None = Field(default=None, min_length=1, max_length=1000)
    rule: str | None = Field(default=None, min_length=1, max_length=200)
    resource: str | None = Field(default=None, min_length=1, max_length=1000)
    status: FindingStatus = FindingStatus.ACCEPTED
    severity: Severity | None = None
    owner: str | None = Field(default=None, min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=10_000)
    expires: date
    evidence: str | None = Field(default=None, pattern=r"^[0-9a-f]{8,64}$")

    @field_validator("reason", "owner")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Suppression:
        if (self.id is None) == (self.rule is None):
            raise ValueError("name either a finding (id) or a rule (rule, with an optional "
                             "resource glob)")
        if self.resource is not None and self.rule is None:
            raise ValueError("resource narrows a rule: give rule too")
        if self.status in {FindingStatus.OPEN, FindingStatus.QUESTION}:
            raise ValueError("status must be accepted, mitigated or false_positive")
        if self.status is FindingStatus.ACCEPTED and self.owner is None:
            raise ValueError("an accepted risk needs an owner")
        return self

    def matches(self, finding: Finding) -> bool:
        """True when this entry names the finding."""
        if self.id is not None:
            return self.id == finding.id
        if self.rule is None or not fnmatchcase(finding.rule, self.rule):
            return False
        return self.resource is None or any(fnmatchcase(r, self.resource)
                                            for r in finding.resources)


@dataclass(frozen=True)
class SourcedSuppression:
    """A suppression and where it is written."""

    entry: Suppression
    source: TriageSource
    file: str
    line: int | None = None


def _when(value: date | datetime | None) -> str:
    return value.isoformat()[:10] if value is not None else ""


def triage_message(state: TriageState, source: TriageSource, status: FindingStatus, *,
                   by: str | None = None, at: datetime | None = None,
                   owner: str | None = None, reason: str | None = None,
                   expires: date | None = None, severity: Severity | None = None,
                   where: str | None = None) -> str:
    """The decision and its state in one line, as the CLI, UI and reports show it."""
    verdict = {FindingStatus.FALSE_POSITIVE: "false positive"}.get(status, status.value)
    if status is FindingStatus.OPEN:
        verdict = "noted" if severity is None else f"severity set to {severity.value}"
    elif severity is not None:
        verdict += f", severity {severity.value}"
    origin = {TriageSource.REVIEW: f"by {by or 'a reviewer'}" + (f" on {_when(at)}" if at
                                                                    else ""),
              TriageSource.SUPPRESSIONS_FILE: f"in {where or 'the suppressions file'}",
              TriageSource.ANNOTATION: f"by annotation ({where or 'ktmb.io/accept'})"}[source]
    extra = "; ".join(part for part in (f"owner {owner}" if owner else "",
                                        f"until {_when(expires)}" if expires else "",
                                        reason or "") if part)
    text = f"{verdict} {origin}" + (f" ({extra})" if extra else "")
    if state is TriageState.CHANGED_SINCE_TRIAGE:
        return f"changed since triage: the evidence differs from when it was {text}; reopened"
    if state is TriageState.EXPIRED:
        return f"expired on {_when(expires)}: it was {text}; reopened"
    return text


def _from_decision(decision: TriageDecision, state: TriageState) -> Triage:
    return Triage(
        state=state, source=TriageSource.REVIEW, status=decision.status,
        severity=decision.severity, owner=decision.owner, reason=decision.reason,
        expires=decision.expires, by=decision.by, at=decision.at, run_id=decision.run_id,
        message=triage_message(state, TriageSource.REVIEW, decision.status, by=decision.by,
                               at=decision.at, owner=decision.owner, reason=decision.reason,
                               expires=decision.expires, severity=decision.severity))


def _from_suppression(item: SourcedSuppression, state: TriageState) -> Triage:
    entry = item.entry
    where = f"{item.file}:{item.line}" if item.line is not None else item.file
    return Triage(
        state=state, source=item.source, status=entry.status, severity=entry.severity,
        owner=entry.owner, reason=entry.reason, expires=entry.expires, file=item.file,
        line=item.line,
        message=triage_message(state, item.source, entry.status, owner=entry.owner,
                               reason=entry.reason, expires=entry.expires,
                               severity=entry.severity, where=where))


def _decided(finding: Finding, triage: Triage, notes: Sequence[Note]) -> Finding:
    """The finding with a decision that holds applied: status, severity, notes, triage."""
    update: dict[str, Any] = {"triage": triage,
                              "notes": tuple(dict.fromkeys((*finding.notes, *notes)))}
    if triage.status is not FindingStatus.OPEN:
        update["status"] = triage.status
    if triage.severity is not None:
        update["severity_override"] = triage.severity
        update["severity"] = triage.severity
    return finding.model_copy(update=update)


@dataclass(frozen=True)
class TriageSet:
    """The decisions a run applies: stored ones by fingerprint, then the repository's."""

    decisions: Mapping[str, TriageDecision] = field(default_factory=dict)
    suppressions: Sequence[SourcedSuppression] = ()

    def __bool__(self) -> bool:
        return bool(self.decisions or self.suppressions)

    def apply(self, finding: Finding, today: date) -> Finding:
        """The finding with the first decision that holds, or marked with one that does not."""
        digest = evidence_hash(finding.evidence)
        stale: Triage | None = None
        decision = self.decisions.get(finding.id)
        if decision is not None:
            if decision.evidence != digest:
                stale = _from_decision(decision, TriageState.CHANGED_SINCE_TRIAGE)
            elif decision.expires is not None and decision.expires < today:
                stale = _from_decision(decision, TriageState.EXPIRED)
            else:
                return _decided(finding, _from_decision(decision, TriageState.APPLIED),
                                decision.notes)
        for item in self.suppressions:
            entry = item.entry
            if not entry.matches(finding):
                continue
            if entry.evidence is not None and not digest.startswith(entry.evidence):
                stale = stale or _from_suppression(item, TriageState.CHANGED_SINCE_TRIAGE)
            elif entry.expires < today:
                stale = stale or _from_suppression(item, TriageState.EXPIRED)
            else:
                return _decided(finding, _from_suppression(item, TriageState.APPLIED), ())
        if stale is None:
            return finding
        return finding.model_copy(update={"triage": stale})

    def apply_all(self, findings: Iterable[Finding], today: date) -> list[Finding]:
        """Every finding with its decision applied (the same list when there is none)."""
        if not self:
            return list(findings)
        return [self.apply(f, today) for f in findings]
