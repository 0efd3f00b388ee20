"""Service accounts that can reach the kubelet API through nodes/proxy."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.identity._grants import capability_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.nodes-proxy",
    title="Service account can use nodes/proxy",
    phase=Phase.IDENTITY,
    stride=(Stride.ELEVATION_OF_PRIVILEGE,),
    likelihood=2, impact=5,
    description=("nodes/proxy reaches the kubelet API of every node, which runs commands in "
                 "any pod on it and bypasses admission control and most audit logging."),
    tactics=(refs.TA.EXECUTION, refs.TA.PRIVILEGE_ESCALATION),
    techniques=("T1609", "T1613"),
    ms_matrix=("MS-TA9030",),
    references=(*refs.cis("5.1.10"), *refs.nsa("rbac"), *refs.RBAC),
    remediation="Remove nodes/proxy from the role; monitoring agents can read metrics through "
                "nodes/metrics instead.",
    false_positives="Some metrics agents request it out of habit; nodes/metrics suffices.",
    kb_topics=("rbac-nodes-proxy", "kubelet-api"),
    harm="api-rights",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag service accounts with get or create on nodes/proxy."""
    yield from capability_findings(facts, RULE, ["nodes-proxy"])
