"""Attack path: internet to node takeover."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.risk_review.path_rule import path_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="risk_review.internet-to-node",
    title="Attack path: internet to node takeover",
    phase=Phase.RISK_REVIEW,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE),
    likelihood=4, impact=5,
    description=("An internet-facing workload carries a container-escape weakness: exploiting the "
                 "application gives the node, and from the node the kubelet's credentials and "
                 "every pod on it."),
    tactics=(refs.TA.INITIAL_ACCESS, refs.TA.PRIVILEGE_ESCALATION),
    techniques=("T1190", "T1611"),
    ms_matrix=("MS-TA9009", "MS-TA9018"),
    references=(*refs.WORKLOAD, *refs.EXPOSED),
    remediation=("Break the chain at its cheapest link: remove the escape (privileged, host "
                "namespaces, host paths, sockets) from the exposed workload, or take it off the "
                "internet."),
    false_positives="A web application firewall or authentication in front of the entry point "
                    "lowers the first step's likelihood; the rest of the chain stays.",
    kb_topics=("attack-paths", "privileged-container"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """One finding per path: its steps as evidence, the chained findings in the text."""
    return path_findings(RULE, facts)
