"""Service accounts that can read Secrets."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.identity._grants import capability_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.secrets-read",
    title="Service account can read Secrets",
    phase=Phase.IDENTITY,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.ELEVATION_OF_PRIVILEGE),
    likelihood=2, impact=4,
    description=("get, list or watch on secrets (directly or through '*') gives every "
                 "credential in scope, service-account tokens of more powerful identities "
                 "included."),
    tactics=(refs.TA.CREDENTIAL_ACCESS,),
    techniques=("T1552.007",),
    ms_matrix=("MS-TA9025",),
    references=(*refs.cis("5.1.2"), *refs.nsa("rbac", "secrets"), *refs.RBAC, *refs.SECRETS),
    remediation="Remove secrets from the role, or restrict it with resourceNames to the "
                "Secrets the workload needs.",
    false_positives="Controllers that manage Secrets (cert-manager, ingress controllers "
                    "reading TLS Secrets) need some of this; keep them in their own namespace.",
    kb_topics=("rbac-secrets-access",),
    harm="api-rights",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag service accounts with get/list/watch on secrets, per scope."""
    yield from capability_findings(facts, RULE, ["secrets-read"],
                                   cluster_impact=5)
