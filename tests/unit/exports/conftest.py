"""Threat models for the export tests, built in code (no database, no run)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema  # no types-jsonschema in the dev extras
import pytest

from workflow.domain.threat_model import (
    PHASES,
    Application,
    Approval,
    ArchitectureView,
    AttackPath,
    AttackRef,
    Citation,
    Component,
    DataFlow,
    Degradation,
    EntryPoint,
    Evidence,
    Finding,
    FindingStatus,
    Generator,
    InputFile,
    LlmInfo,
    Note,
    Origin,
    Phase,
    PhaseRecord,
    PhaseStatus,
    Severity,
    Stride,
    Summary,
    ThreatModel,
    TrustBoundary,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"

HOSTILE = '<script>alert("x")</script>'


def load_schema(name: str) -> dict[str, Any]:
    """A published schema shipped in tests/schemas."""
    data: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return data


def _architecture(web: str) -> ArchitectureView:
    return ArchitectureView(
        components=(
            Component(id=f"Deployment/shop/{web}", kind="Deployment", name=web,
                      namespace="shop", images=("nginx:1.25",)),
            Component(id="StatefulSet/shop/db", kind="StatefulSet", name="db", namespace="shop",
                      images=("postgres:16",), role="datastore"),
            Component(id="DaemonSet/monitoring/agent", kind="DaemonSet", name="agent",
                      namespace="monitoring", images=("agent:latest",)),
        ),
        entry_points=(
            EntryPoint(id="Ingress/shop/web", kind="Ingress", exposure="internet",
                       via="Ingress/shop/web", targets=(f"Deployment/shop/{web}",),
                       ports=("443",), tls=True),
            EntryPoint(id="DaemonSet/monitoring/agent#hostNetwork", kind="hostNetwork",
                       exposure="node", via="DaemonSet/monitoring/agent",
                       targets=("DaemonSet/monitoring/agent",)),
        ),
        trust_boundaries=(
            TrustBoundary(id="internet", kind="internet", name="Internet"),
            TrustBoundary(id="cluster", kind="cluster", name="Cluster",
                          members=(f"Deployment/shop/{web}", "StatefulSet/shop/db",
                                   "DaemonSet/monitoring/agent")),
            TrustBoundary(id="namespace/shop", kind="namespace", name="shop",
                          members=(f"Deployment/shop/{web}", "StatefulSet/shop/db")),
            TrustBoundary(id="namespace/monitoring", kind="namespace", name="monitoring",
                          members=("DaemonSet/monitoring/agent",)),
        ),
        data_flows=(
            DataFlow(source="internet", target=f"Deployment/shop/{web}", kind="ingress",
                     detail="Ingress/shop/web"),
            DataFlow(source="Service/shop/db", target="StatefulSet/shop/db", kind="service",
                     detail="ClusterIP"),
            DataFlow(source=f"Deployment/shop/{web}", target="Service/shop/db", kind="sql",
                     detail="tcp/5432"),
        ),
    )


def _findings(web: str) -> tuple[Finding, ...]:
    web_id = f"Deployment/shop/{web}"
    privileged = Finding(
        id=f"controls.privileged-container@{web_id}#nginx",
        rule="controls.privileged-container",
        title="Privileged container",
        description="The container runs privileged and can take over its node.",
        phase=Phase.CONTROLS,
        stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.TAMPERING),
        attack=AttackRef(tactics=("TA0004",), techniques=("T1611",), ms_matrix=("MS-TA9013",)),
        references=("CIS-1.10:5.2.2", "OWASP-K8S-2022:K01", "PSS:baseline"),
        resources=(web_id,),
        evidence=(Evidence(resource=web_id,
                           path="/spec/template/spec/containers/0/securityContext/privileged",
                           value="true", file="k8s/web.yaml", line=27),),
        likelihood=4, impact=5, score=8.0, severity=Severity.CRITICAL,
        recommendation="Remove securityContext.privileged or set it to false.",
        citations=(Citation(document="NSA/CISA Kubernetes Hardening Guidance",
                            section="Pod security", chunk_id="nsa-k8s-3-1", version=2),),
    )
    wildcard = Finding(
        id="identity.wildcard-rbac@ClusterRole/ops-admin",
        rule="identity.wildcard-rbac",
        title="Wildcard RBAC permissions",
        description="A role grants every verb on every resource.",
        phase=Phase.IDENTITY,
        stride=(Stride.ELEVATION_OF_PRIVILEGE,),
        attack=AttackRef(tactics=("TA0004",), techniques=("T1078.001",)),
        references=("CIS-1.10:5.1.3",),
        resources=("ClusterRole/ops-admin", "ServiceAccount/shop/web", "ServiceAccount/shop/db"),
        evidence=(
            Evidence(resource="ClusterRole/ops-admin", path="/rules/0/verbs", value='["*"]',
                     file="k8s/rbac.yaml", line=8),
            Evidence(resource="ClusterRole/ops-admin", path="/rules/0/resources",
                     value='["*"]', file="k8s/rbac.yaml", line=9),
            Evidence(resource="ServiceAccount/shop/web", path="/metadata/name", value="web",
                     file="k8s/rbac.yaml", line=None),
        ),
        likelihood=3, impact=5, score=6.0, severity=Severity.HIGH,
        recommendation="Grant only the verbs and resources the workload needs.",
        status=FindingStatus.QUESTION,
        notes=(Note(by="alice", at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
                    text="Is ops-admin bound in production?"),),
    )
    secret_env = Finding(
        id=f"data.secret-in-env@{web_id}#DB_PASSWORD",
        rule="data.secret-in-env",
        title="Secret value in an environment variable",
        phase=Phase.DATA,
        stride=(Stride.INFORMATION_DISCLOSURE,),
        references=("OWASP-K8S-2022:K08",),
        resources=(web_id,),
        evidence=(Evidence(resource=web_id,
                           path="/spec/template/spec/containers/0/env/1/value",
                           value="[REDACTED:sha256:0badc0de]", redacted=True,
                           file="k8s/web.yaml", line=33),),
        likelihood=3, impact=3, score=3.6, severity=Severity.MEDIUM,
        recommendation="Mount the value from a Secret through a volume.",
        status=FindingStatus.ACCEPTED,
    )
    no_netpol = Finding(
        id="network.no-network-policy@Namespace/monitoring",
        rule="network.no-network-policy",
        title="Namespace without NetworkPolicy",
        phase=Phase.NETWORK,
        stride=(Stride.TAMPERING, Stride.INFORMATION_DISCLOSURE),
        resources=("Namespace/monitoring",),
        likelihood=2, impact=2, score=1.6, severity=Severity.LOW,
        recommendation="Add a default-deny NetworkPolicy.",
    )
    audit = Finding(
        id="logging.no-audit-annotations@StatefulSet/shop/db",
        rule="logging.no-audit-annotations",
        title="No audit trail for database access",
        phase=Phase.LOGGING,
        stride=(Stride.REPUDIATION,),
        resources=("StatefulSet/shop/db",),
        evidence=(Evidence(resource="StatefulSet/shop/db", path="/metadata/annotations",
                           value=None, file=None, line=None),),
        likelihood=1, impact=1, score=0.4, severity=Severity.INFO,
        status=FindingStatus.FALSE_POSITIVE,
    )
    model_finding = Finding(
        id=f"llm.architecture.0@{web_id}",
        rule="llm",
        title="Session tokens cross an unauthenticated hop",
        description="The notes say the web tier forwards session tokens to the db proxy.",
        phase=Phase.ARCHITECTURE,
        stride=(Stride.SPOOFING,),
        resources=(web_id, "StatefulSet/shop/db"),
        likelihood=3, impact=4, score=4.8, severity=Severity.MEDIUM,
        severity_override=Severity.HIGH,
        recommendation="Authenticate the hop with mTLS.",
        origin=Origin.LLM,
        rationale="ARCHITECTURE.md section 3 describes a plain-HTTP hop.",
        citations=(Citation(document="OWASP Kubernetes Top 10", section="K07",
                            chunk_id="owasp-k07-1"),),
    )
    return (privileged, wildcard, model_finding, secret_env, no_netpol, audit)


def build_model(*, web: str = "web", partial: bool = False, llm: bool = True) -> ThreatModel:
    """A realistic finished (or partial) model of a small shop application."""
    findings = _findings(web)
    web_id = f"Deployment/shop/{web}"
    at = datetime(2026, 11, 21, 14, 5, tzinfo=UTC)
    phases = {phase: PhaseRecord(status=PhaseStatus.APPROVED,
                                 findings=sum(1 for f in findings if f.phase is phase),
                                 approval=Approval(decision="approved", by="bob@bank.example",
                                                   comment="Looks right.", at=at))
              for phase in PHASES}
    phases[Phase.IDENTITY] = phases[Phase.IDENTITY].model_copy(update={
        "approval": Approval(decision="approved", by="carol", at=at,
                             comment="Severity of the model finding raised.",
                             edits={"severity_override": "high"}),
        "model_items_dropped": 2})
    if partial:
        phases[Phase.COMPLIANCE] = PhaseRecord(status=PhaseStatus.AWAITING_APPROVAL, findings=0)
        phases[Phase.RISK_REVIEW] = PhaseRecord(status=PhaseStatus.PENDING)
    return ThreatModel(
        run_id="run-2026-11-21-0001",
        created_at=datetime(2026, 11, 21, 14, 0, tzinfo=UTC),
        application=Application(name="shop", inputs=(
            InputFile(path="k8s/web.yaml", sha256="a" * 64),
            InputFile(path="k8s/rbac.yaml", sha256="b" * 64),
            InputFile(path="ARCHITECTURE.md", sha256="c" * 64, role="architecture"))),
        generator=Generator(
            version="0.1.0", rules=42,
            llm=LlmInfo(provider="ollama", model="phi4-mini", digest="sha256:1234abcd",
                        note="model answers are drafts; review them") if llm else None),
        phases=phases,
        architecture=_architecture(web),
        identity_map=[
            {"subject": "ServiceAccount/shop/web", "kind": "ServiceAccount", "declared": True,
             "workloads": [web_id], "cloud_identity": None,
             "grants": [{"role": "ClusterRole/ops-admin", "scope": "cluster",
                         "resources": ["*"], "verbs": ["*"]}],
             "capabilities": ["cluster-admin@cluster"]},
            {"subject": "ServiceAccount/shop/db", "kind": "ServiceAccount", "declared": False,
             "workloads": ["StatefulSet/shop/db"], "cloud_identity": None,
             "grants": [{"role": "Role/shop/reader", "scope": "shop",
                         "resources": ["configmaps"], "verbs": ["get", "list"]}],
             "capabilities": []},
        ],
        attack_paths=(AttackPath.model_validate({
            "id": "internet=>cluster", "origin": "internet", "origin_kind": "internet",
            "target": {"kind": "cluster", "ref": None},
            "hops": [
                {"from": "internet", "to": "Ingress/shop/web", "attack": "ROUTE"},
                {"from": "Ingress/shop/web", "to": web_id, "attack": "ENDPOINT_EXPLOIT",
                 "findings": [findings[0].id]},
                {"from": web_id, "to": "ServiceAccount/shop/web", "attack": "TOKEN_STEAL"},
                {"from": "ServiceAccount/shop/web", "to": "cluster", "attack": "RBAC_ADMIN",
                 "findings": [findings[1].id], "condition": "can do anything cluster-wide"}],
            "likelihood": 4, "impact": 5, "score": 8.0, "severity": "critical",
            "findings": [findings[0].id, findings[1].id]}),),
        compliance={"frameworks": {"CIS-1.10": {
            "name": "CIS Kubernetes Benchmark v1.10", "findings": 2, "highest": "critical",
            "controls": {"5.1.3": {"findings": [findings[1].id], "highest": "high"},
                         "5.2.2": {"findings": [findings[0].id], "highest": "critical"}}}}},
        findings=findings,
        summary=Summary(total=len(findings),
                        by_severity={"critical": 1, "high": 2, "medium": 1, "low": 1, "info": 1},
                        by_phase={p.value: sum(1 for f in findings if f.phase is p)
                                  for p in PHASES},
                        overall_risk=Severity.CRITICAL, model_items_dropped=2)
        if not partial else Summary(),
        degradations=(Degradation(phase=Phase.DATA, component="retrieval",
                                  reason="knowledge base empty; no citations"),),
        partial=partial,
    )


@pytest.fixture
def model() -> ThreatModel:
    """A finished model with a model finding, an attack path and approvals."""
    return build_model()


@pytest.fixture
def partial_model() -> ThreatModel:
    """A model of a run that stopped at the compliance gate."""
    return build_model(partial=True)


@pytest.fixture
def hostile_model() -> ThreatModel:
    """A model whose web Deployment is named with markup and quotes."""
    return build_model(web=HOSTILE)


@pytest.fixture
def make_model() -> Callable[..., ThreatModel]:
    """The model builder, for tests that vary names, partiality or the model."""
    return build_model


@pytest.fixture(scope="session")
def sarif_validator() -> jsonschema.Draft4Validator:
    """A validator for the published SARIF 2.1.0 schema (draft-04), formats checked."""
    schema = load_schema("sarif-schema-2.1.0.json")
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema,
                                      format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


@pytest.fixture(scope="session")
def otm_validator() -> jsonschema.Draft7Validator:
    """A validator for the published OTM 0.2.0 schema (draft-07), formats checked."""
    schema = load_schema("otm-0.2.0.schema.json")
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema,
                                      format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def empty_model() -> ThreatModel:
    """A model with nothing in it: no findings, no architecture, no phases."""
    return ThreatModel(run_id="run-empty", created_at=datetime(2026, 11, 21, tzinfo=UTC),
                       application=Application(name="empty"),
                       generator=Generator(version="0.1.0"), phases={}, partial=True)


@pytest.fixture
def bare_model() -> ThreatModel:
    """A partial model with nothing in it yet."""
    return empty_model()
