"""The threat-model schema (version 2.0): the JSON every run produces and every tool reads.

2.0 replaced the attack paths' ``steps`` with ``origin``, ``target`` and ``hops`` (each with its
attack type and evidence) and added the attack graph: a reader of 1.0 paths cannot read them.

Exported as ``workflow/domain/threat_model.schema.json``; ``tests/unit/test_schema_file.py``
fails when that file is stale. After a change run::

    python -m workflow.domain.threat_model > workflow/domain/threat_model.schema.json
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workflow.domain.attack_graph import AttackGraph, AttackPath
from workflow.domain.bands import CLOSED_STATUSES, FindingStatus, Score15, Severity
from workflow.domain.marks import (
    BaselineComparison,
    BaselineMark,
    BaselineState,
    Previous,
    ResolvedFinding,
    Triage,
    TriageSource,
    TriageState,
)
from workflow.domain.profile import Profile

__all__ = [
    "PHASES",
    "Approval",
    "ArchitectureView",
    "AttackGraph",
    "AttackPath",
    "AttackRef",
    "BaselineComparison",
    "BaselineMark",
    "BaselineState",
    "Citation",
    "Component",
    "Confidence",
    "DataFlow",
    "Degradation",
    "EntryPoint",
    "Evidence",
    "Finding",
    "FindingStatus",
    "Generator",
    "InputFile",
    "LlmInfo",
    "Note",
    "Origin",
    "Phase",
    "PhaseRecord",
    "PhaseStatus",
    "Previous",
    "Profile",
    "PromptRef",
    "ResolvedFinding",
    "Severity",
    "Stride",
    "Summary",
    "ThreatModel",
    "Triage",
    "TriageSource",
    "TriageState",
    "TrustBoundary",
    "read_model",
]



def _unset(value: object) -> bool:
    """A part of the schema written only when set: models without it read and print as before."""
    return value is None


class Phase(StrEnum):
    """The methodology phases, in the order the graph runs them."""

    ARCHITECTURE = "architecture"
    IDENTITY = "identity"
    DATA = "data"
    LOGGING = "logging"
    NETWORK = "network"
    CONTROLS = "controls"
    COMPLIANCE = "compliance"
    RISK_REVIEW = "risk_review"


PHASES: tuple[Phase, ...] = tuple(Phase)


class Stride(StrEnum):
    """STRIDE threat categories."""

    SPOOFING = "spoofing"
    TAMPERING = "tampering"
    REPUDIATION = "repudiation"
    INFORMATION_DISCLOSURE = "information_disclosure"
    DENIAL_OF_SERVICE = "denial_of_service"
    ELEVATION_OF_PRIVILEGE = "elevation_of_privilege"


class Confidence(StrEnum):
    """How sure a finding is of its harm, given what the manifests show (docs/SEVERITY.md)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Origin(StrEnum):
    """Where a finding comes from."""

    RULE = "rule"
    LLM = "llm"
    MERGED = "merged"


class PhaseStatus(StrEnum):
    """Where a phase stands in a run."""

    PENDING = "pending"
    COMPLETED = "completed"
    DEGRADED = "degraded"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Evidence(_Model):
    """Where a finding is visible: a resource, a JSON pointer into it and the value there."""

    resource: str = Field(description="Inventory id of the resource, Kind/namespace/name.")
    path: str = Field(description="JSON pointer into the resource, e.g. /spec/hostNetwork (for "
                                  "an answer of the application profile: /answers/<question>).")
    value: str | None = Field(
        default=None, description="The value at the path, rendered as text; secrets redacted.")
    redacted: bool = Field(default=False, description="True when the value is a redaction marker.")
    file: str | None = Field(default=None, description="Manifest file the resource came from.")
    line: int | None = Field(default=None, description="1-based line of the path in that file.")


class AttackRef(_Model):
    """MITRE ATT&CK and Microsoft Threat Matrix for Kubernetes identifiers."""

    tactics: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()
    ms_matrix: tuple[str, ...] = Field(
        default=(), description="Microsoft Threat Matrix for Kubernetes ids (MS-TA90xx).")


class Citation(_Model):
    """A knowledge-base passage that backs a finding."""

    document: str
    section: str = ""
    chunk_id: str
    version: int = 1
    collection: str = "builtin"


class Note(_Model):
    """A reviewer's note on a finding."""

    by: str
    at: datetime
    text: str


class Finding(_Model):
    """One threat or weakness in the model."""

    id: str = Field(description="Fingerprint, stable across runs: <rule>@<resource>[#detail].")
    rule: str = Field(description="Stable rule id, or 'llm' for a model finding.")
    title: str
    description: str = ""
    phase: Phase
    stride: tuple[Stride, ...] = ()
    attack: AttackRef = AttackRef()
    references: tuple[str, ...] = Field(
        default=(), description="Framework ids, e.g. CIS-1.10:5.2.2, OWASP-K8S-2022:K01.")
    resources: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    likelihood: Score15 = 3
    impact: Score15 = 3
    score: float = Field(default=0.0, ge=0.0, le=10.0)
    severity: Severity = Severity.INFO
    severity_override: Severity | None = Field(
        default=None, description="Severity set by a reviewer; wins over the computed band.")
    recommendation: str = ""
    model_recommendation: str = Field(
        default="", description="The model's advice in context, kept apart from the rule's "
        "recommendation (origin of the text: generator.llm).")
    citations: tuple[Citation, ...] = ()
    origin: Origin = Origin.RULE
    merged_from: tuple[str, ...] = ()
    status: FindingStatus = FindingStatus.OPEN
    notes: tuple[Note, ...] = ()
    rationale: str = Field(default="", description="Why the model proposed it (model findings).")
    score_factors: tuple[str, ...] = Field(
        default=(), description="Why the reviewer raised or lowered likelihood or impact.")
    confidence: Confidence = Field(
        default=Confidence.HIGH, description="How sure the finding is of its harm: lowered, "
        "not the severity, when the harm depends on what the manifests do not show.")
    unseen: str = Field(
        default="", description="What the harm depends on that the manifests do not show "
        "(what to confirm), when confidence is below high.")
    triage: Triage | None = Field(default=None, exclude_if=_unset, description=(
        "The triage decision that applies, or that no longer holds (changed since triage, "
        "expired); absent when none was taken."))
    baseline: BaselineMark | None = Field(default=None, exclude_if=_unset, description=(
        "The finding against the baseline model; absent when the run had no baseline."))

    @property
    def effective_severity(self) -> Severity:
        """The band that counts: a reviewer's override, else the computed one."""
        return self.severity_override or self.severity

    @property
    def is_open(self) -> bool:
        """True until a reviewer closes it (accepted, mitigated or false positive).

        Open findings (and open questions) count in the overall risk, the compliance summary,
        the attack paths and ``--fail-on``; closed ones stay in the model, ranked last.
        """
        return self.status not in CLOSED_STATUSES


class InputFile(_Model):
    """One input file and its digest."""

    path: str
    sha256: str
    role: Literal["manifest", "architecture", "stdin", "profile", "suppressions"] = "manifest"


class Application(_Model):
    """The application the model is about."""

    name: str
    inputs: tuple[InputFile, ...] = ()
    profile: Profile | None = Field(default=None, exclude_if=_unset, description=(
        "The application profile (ktmb.yaml, notes front matter); absent without one."))


class LlmInfo(_Model):
    """The model that enriched the run."""

    provider: str
    model: str
    digest: str | None = None
    note: str = ""


class PromptRef(_Model):
    """A prompt used in the run."""

    id: str
    version: int
    sha256: str


class Generator(_Model):
    """What produced the model."""

    name: str = "ktmb"
    version: str
    llm: LlmInfo | None = None
    prompts: tuple[PromptRef, ...] = ()
    rules: int = Field(default=0, description="Number of rules in the catalogue.")


class Approval(_Model):
    """A reviewer's decision at a gate."""

    decision: Literal["approved", "rejected"]
    by: str
    comment: str = ""
    at: datetime
    edits: dict[str, Any] | None = None


class Degradation(_Model):
    """Something that ran with less than intended (model down, knowledge base empty, ...)."""

    phase: Phase | None = None
    component: str
    reason: str


class PhaseRecord(_Model):
    """One phase in the model."""

    status: PhaseStatus = PhaseStatus.PENDING
    findings: int = 0
    approval: Approval | None = None
    guidance: str | None = Field(default=None, description="Rejection reason given on rerun.")
    model_items_dropped: int = 0


class Component(_Model):
    """A deployable component of the application."""

    id: str
    kind: str
    name: str
    namespace: str | None
    images: tuple[str, ...] = ()
    role: str = "service"


class EntryPoint(_Model):
    """A way into the application from outside its pods."""

    id: str
    kind: str
    exposure: Literal["internet", "cluster", "node"]
    via: str
    targets: tuple[str, ...] = ()
    ports: tuple[str, ...] = ()
    tls: bool | None = None


class TrustBoundary(_Model):
    """A boundary between zones of trust."""

    id: str
    kind: Literal["internet", "cluster", "namespace", "node"]
    name: str
    members: tuple[str, ...] = ()


class DataFlow(_Model):
    """A flow between two components (or the internet and a component)."""

    source: str
    target: str
    kind: str
    detail: str = ""


class ArchitectureView(_Model):
    """What the architecture phase reconstructs from the inventory."""

    components: tuple[Component, ...] = ()
    entry_points: tuple[EntryPoint, ...] = ()
    trust_boundaries: tuple[TrustBoundary, ...] = ()
    data_flows: tuple[DataFlow, ...] = ()
    diagram: str = Field(default="", description="Mermaid flowchart of the above.")


class Summary(_Model):
    """Counts and the overall risk."""

    total: int = 0
    by_severity: dict[str, int] = Field(default_factory=dict)
    by_phase: dict[str, int] = Field(default_factory=dict)
    overall_risk: Severity = Severity.INFO
    model_items_dropped: int = 0

    @field_validator("by_severity")
    @classmethod
    def _severity_order(cls, value: dict[str, int]) -> dict[str, int]:
        order = [s.value for s in Severity]
        return dict(sorted(value.items(), key=lambda kv: (
            order.index(kv[0]) if kv[0] in order else len(order), kv[0])))

    @field_validator("by_phase")
    @classmethod
    def _phase_order(cls, value: dict[str, int]) -> dict[str, int]:
        order = [p.value for p in Phase]
        return dict(sorted(value.items(), key=lambda kv: (
            order.index(kv[0]) if kv[0] in order else len(order), kv[0])))


class ThreatModel(_Model):
    """A scored threat model of one application."""

    schema_version: Literal["2.0"] = "2.0"
    run_id: str
    created_at: datetime
    application: Application
    generator: Generator
    phases: dict[Phase, PhaseRecord]
    architecture: ArchitectureView = ArchitectureView()
    identity_map: list[dict[str, Any]] = Field(
        default_factory=list, description="Who can do what, and which workloads carry it.")
    attack_paths: tuple[AttackPath, ...] = Field(
        default=(), description="The attack paths kept (bounded; attack_graph.summary counts "
        "the rest).")
    attack_graph: AttackGraph = Field(
        default_factory=AttackGraph, description="The attack graph: vertices, attack steps, "
        "choke points and the summary of its paths.")
    compliance: dict[str, Any] = Field(
        default_factory=dict, description="Per-framework summary of the findings.")
    findings: tuple[Finding, ...] = ()
    summary: Summary = Summary()
    degradations: tuple[Degradation, ...] = ()
    partial: bool = Field(default=False, description="True when the run has not finished.")
    baseline: BaselineComparison | None = Field(default=None, exclude_if=_unset, description=(
        "This model against its baseline (ktmb run/scan --baseline); absent without one."))

    @field_validator("phases")
    @classmethod
    def _phases_in_order(cls, value: dict[Phase, PhaseRecord]) -> dict[Phase, PhaseRecord]:
        return {p: value[p] for p in Phase if p in value}


def read_model(data: Any) -> ThreatModel:
    """A threat model from its JSON document, schema 2.0 or 1.0.

    A 1.0 document is read with its attack paths left out (1.0 paths have no origin, target or
    hops to carry over); everything else is the same in both versions.

    Raises:
        pydantic.ValidationError: the document is not a threat model.
    """
    if isinstance(data, dict) and data.get("schema_version") == "1.0":
        data = {k: v for k, v in data.items() if k != "attack_paths"} | {"schema_version": "2.0"}
    return ThreatModel.model_validate(data)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`ThreatModel`."""
    schema = ThreatModel.model_json_schema(mode="serialization")
    schema["$id"] = "https://ktmb.dev/schema/threat-model-2.0.json"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def json_schema_text() -> str:
    """The committed schema file's exact text."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    import sys

    sys.stdout.write(json_schema_text())
