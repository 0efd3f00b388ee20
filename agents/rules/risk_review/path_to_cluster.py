"""Attack path to control of the cluster."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.risk_review.target_paths import target_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="risk_review.path-to-cluster",
    title="Attack path to control of the cluster",
    phase=Phase.RISK_REVIEW,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE),
    likelihood=4, impact=5,
    description=("Some foothold (the internet, a compromised workload, a stolen credential, a "
                 "node) leads through attack steps to rights equal to cluster-admin."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.CREDENTIAL_ACCESS, refs.TA.LATERAL_MOVEMENT),
    techniques=("T1078.001", "T1098", "T1528"),
    ms_matrix=("MS-TA9016", "MS-TA9019"),
    references=(*refs.RBAC, *refs.cis("5.1.1")),
    remediation=("Cut the chain at the step the recommendation names: remove the grant, the "
                 "mounted token or the escape that leads to cluster-wide rights."),
    false_positives="Each step assumes the previous one succeeded; a step that needs an "
                    "exploit (an exposed service) is rated lower, and authentication or a WAF "
                    "in front of an entry point lowers the first step further.",
    kb_topics=("attack-paths", "rbac-cluster-admin"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """One finding per cluster target an attack path reaches, with its most likely path."""
    return target_findings(RULE, facts, "cluster")
