"""Attack path: internet to cloud account."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.risk_review.path_rule import path_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="risk_review.internet-to-cloud",
    title="Attack path: internet to cloud account",
    phase=Phase.RISK_REVIEW,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE),
    likelihood=4, impact=4,
    description=("An internet-facing workload runs as a service account bound to a cloud IAM "
                 "identity: exploiting the application yields cloud credentials (cluster-to-cloud "
                 "lateral movement)."),
    tactics=(refs.TA.INITIAL_ACCESS, refs.TA.CREDENTIAL_ACCESS, refs.TA.LATERAL_MOVEMENT),
    techniques=("T1190", "T1078.004", "T1552.005"),
    ms_matrix=("MS-TA9009", "MS-TA9020"),
    references=(*refs.CLOUD, *refs.EXPOSED),
    remediation=("Bind cloud identities only to components that need them and are not internet- "
                "facing, and keep the cloud role's permissions minimal."),
    false_positives="A web application firewall or authentication in front of the entry point "
                    "lowers the first step's likelihood; the rest of the chain stays.",
    kb_topics=("attack-paths", "cloud-identity"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """One finding per path: its steps as evidence, the chained findings in the text."""
    return path_findings(RULE, facts)
