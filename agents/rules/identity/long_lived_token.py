"""Long-lived service-account token Secrets."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.long-lived-token",
    title="Long-lived service-account token Secret",
    phase=Phase.IDENTITY,
    stride=(Stride.SPOOFING, Stride.ELEVATION_OF_PRIVILEGE),
    likelihood=2, impact=4,
    description=("A Secret of type kubernetes.io/service-account-token holds a token that "
                 "never expires and survives the pods that used it."),
    tactics=(refs.TA.CREDENTIAL_ACCESS, refs.TA.PERSISTENCE),
    techniques=("T1528", "T1552.007"),
    ms_matrix=("MS-TA9016",),
    references=(*refs.cis("5.1.6"), *refs.nsa("service-account-tokens"), *refs.SECRETS),
    remediation="Delete the Secret and use projected, time-bound tokens (TokenRequest API).",
    false_positives="External systems without TokenRequest support; rotate such tokens.",
    kb_topics=("token-automount",),
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag Secrets of type kubernetes.io/service-account-token."""
    inv = facts.inventory
    for res in inv.of_kind("Secret"):
        if res.raw.get("type") == "kubernetes.io/service-account-token":
            account = res.annotations.get("kubernetes.io/service-account.name", "?")
            yield RULE.finding(res.id, [located(inv, res.id, "/type", res.raw["type"])],
                               title=f"{res.id} is a long-lived token for service account "
                                     f"{account}")
