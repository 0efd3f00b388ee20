"""Attack path: internet to a data store."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.risk_review.path_rule import path_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="risk_review.internet-to-data-store",
    title="Attack path: internet to a data store",
    phase=Phase.RISK_REVIEW,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE),
    likelihood=4, impact=4,
    description=("An internet-facing workload can open connections to a data store that accepts "
                 "traffic from any pod: exploiting the front end reaches the data without any "
                 "further barrier."),
    tactics=(refs.TA.INITIAL_ACCESS, refs.TA.LATERAL_MOVEMENT, refs.TA.COLLECTION),
    techniques=("T1190", "T1210", "T1530"),
    ms_matrix=("MS-TA9009", "MS-TA9034"),
    references=(*refs.NETWORK, *refs.EXPOSED),
    remediation=("Allow connections to the data store only from the components that use it, with "
                "an ingress NetworkPolicy, and require authentication on the store."),
    false_positives="A web application firewall or authentication in front of the entry point "
                    "lowers the first step's likelihood; the rest of the chain stays.",
    kb_topics=("attack-paths", "networkpolicy-default-deny"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """One finding per path: its steps as evidence, the chained findings in the text."""
    return path_findings(RULE, facts)
