"""Attack path to Secrets."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.risk_review.target_paths import target_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="risk_review.path-to-secrets",
    title="Attack path to Secrets",
    phase=Phase.RISK_REVIEW,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE),
    likelihood=4, impact=4,
    description=("Some foothold leads to reading the Secrets of a namespace or of every namespace "
                 "(service-account tokens among them)."),
    tactics=(refs.TA.CREDENTIAL_ACCESS,),
    techniques=("T1552.007", "T1528"),
    ms_matrix=("MS-TA9025",),
    references=(*refs.SECRETS, *refs.RBAC),
    remediation=("Remove secret read rights from the identities on the path (or scope them with "
                 "resourceNames), and stop mounting their tokens where they are not needed."),
    false_positives="Each step assumes the previous one succeeded; a step that needs an "
                    "exploit (an exposed service) is rated lower, and authentication or a WAF "
                    "in front of an entry point lowers the first step further.",
    kb_topics=("attack-paths", "rbac-secrets-access"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """One finding per secrets target an attack path reaches, with its most likely path."""
    return target_findings(RULE, facts, "secrets")
