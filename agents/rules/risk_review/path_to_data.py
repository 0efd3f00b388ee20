"""Attack path to a data store."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.risk_review.target_paths import target_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="risk_review.path-to-data",
    title="Attack path to a data store",
    phase=Phase.RISK_REVIEW,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE),
    likelihood=4, impact=4,
    description=("Some foothold leads to a data store: its port is reachable (NetworkPolicies "
                 "allow it) or its pod can be taken over."),
    tactics=(refs.TA.LATERAL_MOVEMENT, refs.TA.COLLECTION),
    techniques=("T1210", "T1530"),
    ms_matrix=("MS-TA9034",),
    references=(*refs.NETWORK, *refs.SECRETS),
    remediation=("Admit connections to the store only from the workloads that use it (an ingress "
                 "NetworkPolicy), keep its credentials out of other workloads and require "
                 "authentication on the store."),
    false_positives="Each step assumes the previous one succeeded; a step that needs an "
                    "exploit (an exposed service) is rated lower, and authentication or a WAF "
                    "in front of an entry point lowers the first step further.",
    kb_topics=("attack-paths", "networkpolicy-default-deny"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """One finding per data target an attack path reaches, with its most likely path."""
    return target_findings(RULE, facts, "data")
