"""Service accounts that can write ConfigMaps (cluster DNS, EKS aws-auth)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from agents.facts.derived import Facts
from agents.facts.identity import Capability
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.identity._grants import capability_findings
from workflow.domain.scoring import Impact
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

#: ConfigMaps that control the cluster: EKS's IAM mapping and the cluster DNS.
_CLUSTER_MAPS = frozenset({"aws-auth", "coredns"})

RULE = RuleMeta(
    id="identity.configmap-write",
    title="Service account can write ConfigMaps",
    phase=Phase.IDENTITY,
    stride=(Stride.TAMPERING, Stride.ELEVATION_OF_PRIVILEGE, Stride.SPOOFING),
    likelihood=2, impact=3,
    description=("ConfigMaps configure other workloads: in kube-system they hold CoreDNS's "
                 "configuration (redirect every name in the cluster) and, on EKS, the aws-auth "
                 "map that maps IAM identities to cluster-admin. Writing them cluster-wide or "
                 "in kube-system is cluster control; elsewhere it changes the namespace's "
                 "applications."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.PERSISTENCE),
    techniques=("T1098", "T1565.001"),
    ms_matrix=("MS-TA9019",),
    references=(*refs.nsa("rbac"), *refs.RBAC),
    remediation="Remove create, update and patch on configmaps, or narrow them with "
                "resourceNames to the workload's own ConfigMaps outside kube-system.",
    false_positives="Operators that manage their own ConfigMaps; keep them namespace-scoped "
                    "and narrowed by name.",
    kb_topics=("rbac-cluster-admin",),
    harm="api-rights",
)


def _impact(scope: str, caps: Sequence[Capability]) -> int | None:
    """Cluster-wide, in kube-system, or aws-auth and coredns by name: cluster control."""
    names = {n for c in caps for n in c.names}
    if scope in {"cluster", "kube-system"} or names & _CLUSTER_MAPS:
        return Impact.CLUSTER
    return None


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag service accounts that can write ConfigMaps."""
    yield from capability_findings(facts, RULE, ["configmaps-write"], impact_of=_impact)
