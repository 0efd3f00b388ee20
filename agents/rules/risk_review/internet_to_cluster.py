"""Attack path: internet to Kubernetes API rights."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.risk_review.path_rule import path_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="risk_review.internet-to-cluster",
    title="Attack path: internet to Kubernetes API rights",
    phase=Phase.RISK_REVIEW,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE),
    likelihood=4, impact=5,
    description=("An internet-facing workload mounts a service-account token whose rights reach "
                 "the cluster or a namespace: exploiting the application hands the attacker those "
                 "API rights."),
    tactics=(refs.TA.INITIAL_ACCESS, refs.TA.CREDENTIAL_ACCESS, refs.TA.PRIVILEGE_ESCALATION),
    techniques=("T1190", "T1528", "T1078.001"),
    ms_matrix=("MS-TA9009", "MS-TA9016"),
    references=(*refs.RBAC, *refs.EXPOSED),
    remediation=("Set automountServiceAccountToken: false on the exposed workload, or move the API "
                "rights to a separate, unexposed component."),
    false_positives="A web application firewall or authentication in front of the entry point "
                    "lowers the first step's likelihood; the rest of the chain stays.",
    kb_topics=("attack-paths", "token-automount"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """One finding per path: its steps as evidence, the chained findings in the text."""
    return path_findings(RULE, facts)
