"""The risk-review phase: attack paths chained from the findings the earlier phases kept.

Its rules and its paths read the attack graph of :attr:`agents.facts.derived.Facts.findings`
(the open findings of the earlier phases, after their gates), never the rule catalogue again:
a finding a reviewer removed or marked false positive evidences no step of any path. The
phase's paths go to its gate, which shows them with its findings.
"""

from __future__ import annotations

from agents.attack_graph import analyse
from agents.facts.derived import Facts
from agents.phase import PhaseSpec, PromptView, WorkloadDetail
from agents.rules.risk_review import RULES
from workflow.domain.threat_model import AttackPath, Phase

__all__ = ["PHASE"]


def attack_paths(facts: Facts) -> tuple[AttackPath, ...]:
    """The paths the attack graph keeps (the analysis is shared with the phase's rules)."""
    return analyse(facts).paths


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
    paths_step=attack_paths,
)
