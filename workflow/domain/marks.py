"""What a threat model says about a finding beyond the finding: its triage and its drift.

Part of the threat-model schema (:mod:`workflow.domain.threat_model` re-exports these):

- :class:`Triage` — the decision that applies to a finding, where it comes from (a reviewer at
  a gate or in the UI, the repository's suppressions file, an annotation on the resource) and
  whether it still holds (``applied``), or reopened the finding because the evidence changed
  since (``changed_since_triage``) or the acceptance expired (``expired``);
- :class:`BaselineMark` and :class:`BaselineComparison` — each finding and attack path against
  a baseline model: new, changed, unchanged, and the resolved ones listed.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from workflow.domain.bands import FindingStatus, Severity

__all__ = [
    "BaselineComparison",
    "BaselineMark",
    "BaselineState",
    "Previous",
    "ResolvedFinding",
    "Triage",
    "TriageSource",
    "TriageState",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TriageSource(StrEnum):
    """Where a triage decision was taken."""

    REVIEW = "review"
    SUPPRESSIONS_FILE = "suppressions_file"
    ANNOTATION = "annotation"


class TriageState(StrEnum):
    """Whether a triage decision holds for a finding in this run."""

    APPLIED = "applied"
    CHANGED_SINCE_TRIAGE = "changed_since_triage"
    EXPIRED = "expired"


class Triage(_Model):
    """The decision that applies (or applied) to a finding, and whether it still holds.

    A decision holds while the finding's fingerprint and evidence are those it was taken on and
    its expiry has not passed; otherwise the finding is open again and ``state`` says why, with
    the old decision kept here for the reviewer.
    """

    state: TriageState
    source: TriageSource
    status: FindingStatus = Field(description="The decision's status (open: a note or a "
                                              "severity only).")
    severity: Severity | None = Field(default=None,
                                      description="The decision's severity override.")
    owner: str | None = Field(default=None, description="Who owns an accepted risk.")
    reason: str | None = None
    expires: date | None = Field(default=None, description="Last day the decision holds.")
    by: str | None = Field(default=None, description="Who decided (review decisions).")
    at: datetime | None = None
    run_id: str | None = Field(default=None, description="The run the decision was taken in.")
    file: str | None = Field(default=None, description="Suppressions file or manifest that "
                                                       "holds the decision.")
    line: int | None = None
    message: str = Field(description="The decision and its state, in one line for people.")


class BaselineState(StrEnum):
    """A finding or attack path against the baseline model."""

    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    RESOLVED = "resolved"


class Previous(_Model):
    """What the baseline said of a finding."""

    severity: Severity
    score: float
    status: FindingStatus


class BaselineMark(_Model):
    """A finding against the baseline model."""

    state: BaselineState
    fields: tuple[str, ...] = Field(
        default=(), description="What changed: severity, score, status, evidence.")
    previous: Previous | None = Field(default=None, description="The baseline's assessment "
                                                                "(changed findings).")


class ResolvedFinding(_Model):
    """A finding of the baseline that this model no longer has."""

    id: str
    rule: str
    title: str
    phase: str
    severity: Severity
    status: FindingStatus


class BaselineComparison(_Model):
    """This model against its baseline: counts, resolved findings, attack paths by state."""

    ref: str = Field(description="The baseline as named: a run id, a file, or the "
                                 "application's latest completed run.")
    run_id: str = Field(description="The baseline model's run id.")
    counts: dict[str, int] = Field(default_factory=dict,
                                   description="Findings new, changed, unchanged, resolved.")
    resolved: tuple[ResolvedFinding, ...] = ()
    attack_paths: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="Attack path ids by state (new, changed, unchanged, "
                                          "resolved).")
