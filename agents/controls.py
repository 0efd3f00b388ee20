"""The controls phase: pod security, image provenance, admission control and webhooks."""

from __future__ import annotations

from agents.phase import PhaseSpec, PromptView, WorkloadDetail
from agents.rules.controls import RULES
from workflow.domain.threat_model import Phase

__all__ = ["PHASE"]

PHASE = PhaseSpec(
    phase=Phase.CONTROLS,
    title="Controls: pod security, images, admission and webhooks",
    rules=RULES,
    view=PromptView(
        kinds=("*workloads", "Namespace", "MutatingWebhookConfiguration",
               "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy", "PodSecurityPolicy",
               "LimitRange", "ResourceQuota", "PodDisruptionBudget", "ClusterPolicy", "Policy",
               "ConstraintTemplate", "RuntimeClass"),
        workload_details=frozenset({
            WorkloadDetail.TOKEN,
            WorkloadDetail.VOLUMES,
            WorkloadDetail.CONTAINER_CONTROLS,
        })),
)
