"""The compliance phase: classified data against segmentation and encryption in transit."""

from __future__ import annotations

from agents.phase import PhaseSpec, PromptView
from agents.rules.compliance import RULES
from workflow.domain.threat_model import Phase

__all__ = ["PHASE"]

PHASE = PhaseSpec(
    phase=Phase.COMPLIANCE,
    title="Compliance: classified data, segmentation and cleartext exposure",
    rules=RULES,
    view=PromptView(
        kinds=("Namespace", "*workloads", "Service", "Ingress", "NetworkPolicy",
               "ClusterRoleBinding", "RoleBinding"),
        workload_details=frozenset()),
)
