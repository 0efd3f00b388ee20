"""The identity phase: who the workloads are to the Kubernetes API and the cloud."""

from __future__ import annotations

from agents.phase import PhaseSpec, PromptView, WorkloadDetail
from agents.rules.identity import RULES
from workflow.domain.threat_model import Phase

__all__ = ["PHASE"]

PHASE = PhaseSpec(
    phase=Phase.IDENTITY,
    title="Identity: service accounts, RBAC, tokens, cloud identities",
    rules=RULES,
    view=PromptView(
        kinds=("ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding",
               "*workloads", "Namespace"),
        workload_details=frozenset({WorkloadDetail.TOKEN})),
)
