"""Attack path to a node."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.risk_review.target_paths import target_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="risk_review.path-to-node",
    title="Attack path to a node",
    phase=Phase.RISK_REVIEW,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE),
    likelihood=4, impact=5,
    description=("Some foothold leads to root on a node of a pool (a container escape, a "
                 "privileged pod created through RBAC): the node's pods, their tokens and the "
                 "kubelet's credentials follow."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.LATERAL_MOVEMENT),
    techniques=("T1611", "T1610"),
    ms_matrix=("MS-TA9018", "MS-TA9008"),
    references=(*refs.WORKLOAD, *refs.ADMISSION),
    remediation=("Remove the escape (privileged, host namespaces, host paths, runtime sockets) or "
                 "the right to create pods on the path, or enforce Pod Security Admission baseline"
                 " where it runs."),
    false_positives="Each step assumes the previous one succeeded; a step that needs an "
                    "exploit (an exposed service) is rated lower, and authentication or a WAF "
                    "in front of an entry point lowers the first step further.",
    kb_topics=("attack-paths", "privileged-container"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """One finding per node target an attack path reaches, with its most likely path."""
    return target_findings(RULE, facts, "node")
