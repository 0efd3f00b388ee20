"""Attack path to a cloud identity."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.risk_review.target_paths import target_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="risk_review.path-to-cloud",
    title="Attack path to a cloud identity",
    phase=Phase.RISK_REVIEW,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE),
    likelihood=4, impact=4,
    description=("Some foothold leads to a pod (or a token request) of a service account bound to "
                 "a cloud IAM identity: the path continues into the cloud account with that "
                 "identity's permissions."),
    tactics=(refs.TA.CREDENTIAL_ACCESS, refs.TA.LATERAL_MOVEMENT),
    techniques=("T1078.004", "T1552.005"),
    ms_matrix=("MS-TA9020",),
    references=(*refs.CLOUD, *refs.RBAC),
    remediation=("Bind cloud identities only to the workloads that need them, keep those workloads"
                 " off the paths (no exposure, no exec rights over them) and the cloud role "
                 "minimal."),
    false_positives="Each step assumes the previous one succeeded; a step that needs an "
                    "exploit (an exposed service) is rated lower, and authentication or a WAF "
                    "in front of an entry point lowers the first step further.",
    kb_topics=("attack-paths", "cloud-identity"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """One finding per cloud target an attack path reaches, with its most likely path."""
    return target_findings(RULE, facts, "cloud")
