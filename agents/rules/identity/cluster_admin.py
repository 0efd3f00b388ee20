"""Service accounts with cluster-admin or an equivalent wildcard grant."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.identity._grants import capability_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.cluster-admin",
    title="Service account is cluster-admin (or equivalent)",
    phase=Phase.IDENTITY,
    stride=(Stride.ELEVATION_OF_PRIVILEGE,),
    likelihood=2, impact=4,
    description=("The service account may do anything (all verbs on all resources), through "
                 "cluster-admin or a role with the same wildcard rule; any pod that runs as it "
                 "owns the cluster (or the namespace, for a RoleBinding)."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.PERSISTENCE),
    techniques=("T1078.001",),
    ms_matrix=("MS-TA9019",),
    references=(*refs.cis("5.1.1", "5.1.3"), *refs.nsa("rbac"), *refs.RBAC),
    remediation="Bind the service account to a role with only the verbs and resources it "
                "uses, scoped to its namespace.",
    false_positives="Cluster operators (GitOps controllers) that really administer the "
                    "cluster; they should run outside application namespaces.",
    kb_topics=("rbac-cluster-admin", "rbac-wildcard"),
    harm="api-rights",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag service accounts holding an all-verbs/all-resources grant."""
    yield from capability_findings(facts, RULE, ["cluster-admin"], cluster_impact=5)
