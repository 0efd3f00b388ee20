"""Service accounts that can write admission webhook configurations."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.identity._grants import capability_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.webhook-write",
    title="Service account can write admission webhook configurations",
    phase=Phase.IDENTITY,
    stride=(Stride.TAMPERING, Stride.INFORMATION_DISCLOSURE, Stride.ELEVATION_OF_PRIVILEGE),
    likelihood=2, impact=5,
    description=("Whoever writes a Mutating or ValidatingWebhookConfiguration decides which "
                 "server sees, and may change, every object written to the cluster, Secrets "
                 "included."),
    tactics=(refs.TA.PERSISTENCE, refs.TA.CREDENTIAL_ACCESS),
    techniques=("T1546",),
    ms_matrix=("MS-TA9015",),
    references=(*refs.cis("5.1.12"), *refs.nsa("rbac", "admission-control"), *refs.RBAC),
    remediation="Remove create, update and patch on webhook configurations; let only the "
                "platform's deployment identity manage them.",
    false_positives="Operators that patch their own webhook's caBundle; restrict them with "
                    "resourceNames.",
    kb_topics=("rbac-webhook-config", "admission-webhooks"),
    harm="api-rights",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag service accounts with writes to webhook configurations."""
    yield from capability_findings(facts, RULE, ["webhook-write"])
