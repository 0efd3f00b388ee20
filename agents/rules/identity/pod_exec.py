"""Service accounts that can exec into or attach to pods."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.identity._grants import capability_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.pod-exec",
    title="Service account can exec into or attach to pods",
    phase=Phase.IDENTITY,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE),
    likelihood=2, impact=4,
    description=("pods/exec and pods/attach run commands inside other pods, with their "
                 "identities, tokens and data."),
    tactics=(refs.TA.EXECUTION, refs.TA.LATERAL_MOVEMENT),
    techniques=("T1609",),
    ms_matrix=("MS-TA9006",),
    references=(*refs.nsa("rbac"), *refs.RBAC),
    remediation="Remove pods/exec and pods/attach from the role; use them only from audited "
                "break-glass identities.",
    false_positives="Debugging or backup operators that exec by design.",
    kb_topics=("rbac-exec",),
    harm="api-rights",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag service accounts with pods/exec or pods/attach."""
    yield from capability_findings(facts, RULE, ["pods-exec", "pods-attach"], cluster_impact=5)
