"""The risk-review phase: attack paths chained from the findings the earlier phases kept.

Its rules read :attr:`agents.facts.derived.Facts.findings` (the open findings of the earlier
phases, after their gates), never the rule catalogue again: a finding a reviewer removed or
marked false positive is not a step of any path.
"""

from __future__ import annotations

from agents.phase import PhaseSpec, PromptView, WorkloadDetail
from agents.rules.risk_review import RULES
from workflow.domain.threat_model import Phase

__all__ = ["PHASE"]

PHASE = PhaseSpec(
    phase=Phase.RISK_REVIEW,
    title="Risk review: attack paths over the findings the earlier phases kept",
    rules=RULES,
    view=PromptView(
        kinds=("Ingress", "Service", "*workloads", "ServiceAccount", "ClusterRoleBinding",
               "RoleBinding", "NetworkPolicy"),
        workload_details=frozenset({
            WorkloadDetail.TOKEN,
            WorkloadDetail.VOLUMES,
            WorkloadDetail.SECRET_REFS,
        })),
)
