"""Service accounts that can redirect or open traffic: Services, Endpoints, NetworkPolicies."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.identity._grants import capability_findings
from workflow.domain.scoring import Impact
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.network-control",
    title="Service account can redirect or open traffic",
    phase=Phase.IDENTITY,
    stride=(Stride.SPOOFING, Stride.TAMPERING, Stride.INFORMATION_DISCLOSURE),
    likelihood=2, impact=3,
    description=("Writing Services or Endpoints lets the holder send a Service's traffic to a "
                 "pod of its choosing (or claim external IPs, CVE-2020-8554); writing "
                 "NetworkPolicies lifts the isolation they give; pods/portforward reaches any "
                 "pod's ports past NetworkPolicy. Each intercepts or opens traffic in scope."),
    tactics=(refs.TA.COLLECTION, refs.TA.LATERAL_MOVEMENT, refs.TA.DEFENSE_EVASION),
    techniques=("T1557", "T1599", "T1090"),
    ms_matrix=("MS-TA9034",),
    references=(*refs.nsa("rbac", "network-policies"), *refs.RBAC, *refs.NETWORK),
    remediation="Remove writes of services, endpoints, endpointslices and networkpolicies and "
                "pods/portforward from the role; let only the deployment pipeline hold them.",
    false_positives="Ingress and service-mesh controllers that manage Endpoints or Services by "
                    "design; keep them in their own namespace.",
    kb_topics=("rbac-escalate-bind-impersonate", "networkpolicy-default-deny"),
    harm="api-rights",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag service accounts that can redirect traffic, lift isolation or port-forward."""
    yield from capability_findings(
        facts, RULE, ["services-write", "endpoints-write", "networkpolicies-write",
                      "pods-portforward"], cluster_impact=Impact.SYSTEM)
