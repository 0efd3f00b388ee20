"""Secrets committed with their values in the manifests."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="data.secret-in-manifest",
    title="Secret values committed with the manifests",
    phase=Phase.DATA,
    stride=(Stride.INFORMATION_DISCLOSURE,),
    likelihood=3, impact=4,
    description=("The Secret's data is in the manifest itself (base64 is not encryption): it "
                 "lives in the repository history and every copy of the manifests."),
    tactics=(refs.TA.CREDENTIAL_ACCESS,),
    techniques=("T1552.001",),
    ms_matrix=("MS-TA9027",),
    references=(*refs.cis("5.4.2"), *refs.nsa("secrets"), *refs.SECRETS),
    remediation="Keep Secret values out of the repository (External Secrets, Sealed Secrets, "
                "SOPS or a CSI secret store) and rotate the committed ones.",
    false_positives="Encrypted manifests (SOPS) and dummy test values.",
    kb_topics=("literal-credentials", "secrets-encryption"),
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag Secrets whose data or stringData holds values."""
    inv = facts.inventory
    for res in inv.of_kind("Secret"):
        if res.raw.get("type") == "kubernetes.io/service-account-token":
            continue
        keys = [f"/{field}/{key}" for field in ("data", "stringData")
                for key, value in sorted((res.raw.get(field) or {}).items()) if value]
        if keys:
            yield RULE.finding(res.id, [located(inv, res.id, k, res.get(k)) for k in keys[:5]],
                               title=f"Secret {res.name} carries {len(keys)} value(s) in the "
                                     "manifests")
