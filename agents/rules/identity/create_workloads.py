"""Service accounts that can create pods or workloads."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.identity._grants import capability_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.create-workloads",
    title="Service account can create pods or workloads",
    phase=Phase.IDENTITY,
    stride=(Stride.ELEVATION_OF_PRIVILEGE,),
    likelihood=2, impact=4,
    description=("Creating pods (directly or through Deployments, Jobs, DaemonSets ...) lets "
                 "the holder run any image as any service account of the namespace and, "
                 "without admission control, a privileged pod on any node."),
    tactics=(refs.TA.EXECUTION, refs.TA.PRIVILEGE_ESCALATION, refs.TA.PERSISTENCE),
    techniques=("T1610", "T1053.007"),
    ms_matrix=("MS-TA9008", "MS-TA9014"),
    references=(*refs.cis("5.1.4"), *refs.nsa("rbac"), *refs.RBAC),
    remediation="Remove create on pods and workload resources from the role unless the "
                "workload is a controller that must create them.",
    false_positives="CI runners and operators that deploy workloads by design.",
    kb_topics=("rbac-create-pods",),
    harm="api-rights",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag service accounts that can create pods or pod-creating workloads."""
    yield from capability_findings(facts, RULE, ["create-pods", "create-workloads"],
                                   cluster_impact=5)
