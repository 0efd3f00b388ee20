"""Secrets committed with their values in the manifests, rated by what they hold."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.credentials import CredentialSet, credential_sets, worst
from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.scoring import Likelihood
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="data.secret-in-manifest",
    title="Secret values committed with the manifests",
    phase=Phase.DATA,
    stride=(Stride.INFORMATION_DISCLOSURE,),
    likelihood=Likelihood.ONE_STEP, impact=3,
    description=("The Secret's data is in the manifest itself (base64 is not encryption): it "
                 "lives in the repository history and every copy of the manifests. The finding "
                 "says what the Secret holds (from its keys, its type and the shape of each "
                 "value, never the value) and is rated by the worst of it: a token-signing key "
                 "mints a login for any user."),
    tactics=(refs.TA.CREDENTIAL_ACCESS,),
    techniques=("T1552.001",),
    ms_matrix=("MS-TA9027",),
    references=(*refs.cis("5.4.2"), *refs.nsa("secrets"), *refs.SECRETS),
    remediation="Keep Secret values out of the repository (External Secrets, Sealed Secrets, "
                "SOPS or a CSI secret store) and rotate the committed ones.",
    false_positives="Encrypted manifests (SOPS) and dummy test values.",
    kb_topics=("literal-credentials", "secrets-encryption"),
    per_node=False,
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag Secrets whose data or stringData holds values, saying what they hold.

    Values that are all well-known defaults are left to data.default-credential.
    """
    inv = facts.inventory
    by_secret: dict[str, list[CredentialSet]] = {}
    for cset in credential_sets(inv, (i for i in inv.secret_values if i.location == "secret"
                                      and i.path.startswith(("/data/", "/stringData/")))):
        by_secret.setdefault(cset.resource, []).append(cset)
    for res in inv.of_kind("Secret"):
        sets = [s for s in by_secret.get(res.id, []) if not s.all_default]
        if res.raw.get("type") == "kubernetes.io/service-account-token" or not sets:
            continue
        kinds = sorted({k for s in sets for k in s.kinds}, key=lambda k: (-k.impact, k.label))
        kind = worst(kinds)
        keys = [key for s in sets for key in s.keys]
        items = [i for s in sets for i in s.items]
        holds = ", ".join(k.label for k in kinds[:3])
        yield RULE.finding(res.id, [located(inv, res.id, i.path, res.get(i.path))
                                    for i in items[:5]],
                           impact=kind.impact,
                           title=f"Secret {res.name} holds a {holds} in the manifests "
                                 f"({len(keys)} key(s): {', '.join(keys[:6])})")
