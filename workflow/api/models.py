"""Request and response bodies of the HTTP API (pydantic, documented in the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from workflow.domain.run import RunStatus
from workflow.domain.threat_model import AttackPath, Finding
from workflow.gates import PhaseEdits

__all__ = [
    "ApprovalRecord",
    "ApproveRequest",
    "CollectionView",
    "ErrorBody",
    "Me",
    "PendingPhase",
    "PhaseProgress",
    "RejectRequest",
    "RunAccepted",
    "RunDetail",
    "RunSummary",
    "StartFromPaths",
    "TriageRecorded",
    "TriageRequest",
]

LlmProvider = Literal["off", "ollama", "llamacpp"]


def _invalid_text(value: Any, where: str) -> str | None:
    r"""Where a JSON value holds text that is not valid Unicode (a lone surrogate), if anywhere.

    JSON's ``\ud800``-style escapes decode to strings no encoder accepts: they are refused here, at
    the boundary, before a path, the database or an error message has to encode them.
    """
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where
        return None
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if _invalid_text(key, where) is not None:
                return f"{where} (a key)"
            items.append((str(key), item))
    elif isinstance(value, list):
        items = [(str(index), item) for index, item in enumerate(value)]
    for name, item in items:
        found = _invalid_text(item, f"{where}.{name}" if where != "body" else name)
        if found is not None:
            return found
    return None


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        where = _invalid_text(data, "body")
        if where is not None:
            raise PydanticCustomError(
                "invalid_unicode", "{where}: text with a lone surrogate (not valid Unicode)",
                {"where": where})
        return data


class ErrorBody(BaseModel):
    """Every error: a short kind and a one-line explanation for a person."""

    error: str = Field(description="Kind of error, e.g. NotFoundError or DecisionError.")
    detail: str = Field(description="One line that says what is wrong and what to do.")


class Me(BaseModel):
    """The authenticated reviewer."""

    user: str
    groups: list[str]
    via: str = Field(description="token, header or cookie.")
    csrf_token: str = Field(description="Send as X-CSRF-Token on state-changing requests "
                                        "authenticated by cookie or trusted header.")


class StartFromPaths(_Body):
    """Start a run on manifests already on the server (inside KTMB_SERVER_PATHS)."""

    paths: list[str] = Field(min_length=1, max_length=100,
                             description="Absolute manifest files or directories.")
    architecture: list[str] = Field(default_factory=list, max_length=20,
                                    description="Architecture or security-review notes files.")
    profile: str | None = Field(default=None, max_length=4096, description=(
        "The application profile (default: a ktmb.yaml in a manifest directory)."))
    suppressions: str | None = Field(default=None, max_length=4096, description=(
        "The suppressions file (default: a ktmb-suppressions.yaml in a manifest directory)."))
    baseline: str | None = Field(default=None, max_length=200, description=(
        "A completed run to compare with, or 'none' (default: the application's latest "
        "completed run)."))
    application: str | None = Field(default=None, min_length=1, max_length=200)
    approval: str = Field(default="none", max_length=500,
                          description="none, each, or a comma-separated list of phases.")
    llm: LlmProvider = "off"
    model: str | None = Field(default=None, max_length=500)
    cloud: str | None = Field(default=None, max_length=50)
    classification: str | None = Field(default=None, max_length=100)
    owner_groups: list[str] | None = Field(
        default=None, max_length=50,
        description="Groups that may see the run (a subset of yours; default: all of yours).")


class RunAccepted(BaseModel):
    """A run (or a decision) was accepted; the work continues in the background."""

    run_id: str
    status: RunStatus
    detail: str = ""
    status_url: str


class PhaseProgress(BaseModel):
    """Where one phase of a run stands."""

    phase: str
    status: str = Field(description="pending, running, completed, degraded, awaiting_approval, "
                                    "approved or rejected.")
    findings: int = 0
    needs_approval: bool = False


class ApprovalRecord(BaseModel):
    """A reviewer's decision at a gate."""

    phase: str
    decision: str
    decided_by: str
    comment: str
    edits: dict[str, Any] | None = None
    decided_at: datetime


class RunSummary(BaseModel):
    """A run in a list."""

    run_id: str
    application: str
    status: RunStatus
    pending_phase: str | None
    current_phase: str | None
    created_by: str
    owner_groups: list[str]
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class RunDetail(RunSummary):
    """A run with its phase progress and approvals."""

    error: str | None
    approval_policy: list[str]
    llm_provider: str
    llm_model: str | None
    busy: bool = Field(description="True while this server executes the run in the background.")
    phases: list[PhaseProgress]
    approvals: list[ApprovalRecord]
    version: int | None = Field(default=None,
                                description="Threat-model version of a completed run.")


class PendingPhase(BaseModel):
    """The phase waiting for approval, its findings (and the risk review's attack paths)."""

    run_id: str
    phase: str
    findings: list[Finding] = Field(
        description="The phase's findings with the severity and score the reviewer will "
                    "publish; score_factors says why a score moved.")
    scores: str = Field(default="", description="What the scores are, and how they may change.")
    attack_paths: list[AttackPath] = Field(default_factory=list)
    drift: dict[str, Any] | None = Field(
        default=None, description="Against the run's baseline: {baseline, new, changed, "
                                  "resolved} finding ids of this phase (null without one).")


class ApproveRequest(_Body):
    """Approve the pending phase, optionally with edits (the same edits as ``ktmb approve``)."""

    comment: str = Field(default="", max_length=10_000)
    edits: PhaseEdits | None = Field(
        default=None,
        description="{edits: [{id, remove (with a reason) | severity | status | note}]}")


class TriageRequest(_Body):
    """Decisions on a run's findings for the application's next runs (no removals)."""

    edits: PhaseEdits = Field(description="{edits: [{id, severity | status (accepted: owner, "
                                          "reason, expires) | note}]}")


class TriageRecorded(BaseModel):
    """Decisions were stored; they apply from the application's next run."""

    run_id: str
    application: str
    recorded: int


class RejectRequest(_Body):
    """Reject the pending phase; the reason is given to the phase when it is rerun."""

    reason: str = Field(min_length=1, max_length=10_000)


class CollectionView(BaseModel):
    """A knowledge-base collection the reviewer may read."""

    name: str
    embedding_model: str
    dimension: int
    public: bool
    read_groups: list[str]
