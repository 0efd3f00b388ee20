"""NetworkPolicies whose ingress rules allow everything."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agents.facts.admission import default_deny_namespaces
from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.selectors import selector_is_empty
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="network.allow-all-ingress",
    title="NetworkPolicy allows all ingress",
    phase=Phase.NETWORK,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING),
    likelihood=2, impact=3,
    description=("An ingress rule with no source, an empty namespaceSelector or 0.0.0.0/0 "
                 "admits every pod and address, undoing the isolation the policy promises."),
    tactics=(refs.TA.LATERAL_MOVEMENT,),
    techniques=("T1210",),
    ms_matrix=("MS-TA9034",),
    references=(*refs.cis("5.3.2"), *refs.nsa("network-policies"), *refs.NETWORK),
    remediation="Replace the open rule with podSelector/namespaceSelector peers for the "
                "callers that need access.",
    false_positives="The policy in front of an ingress controller that must accept "
                    "everything.",
    kb_topics=("networkpolicy-default-deny",),
)


def _open_peer(peer: Any) -> bool:
    if not isinstance(peer, dict):
        return False
    block = peer.get("ipBlock")
    if isinstance(block, dict) and str(block.get("cidr")) in {"0.0.0.0/0", "::/0"} \
            and not block.get("except"):
        return True
    return ("namespaceSelector" in peer and selector_is_empty(peer.get("namespaceSelector"))
            and selector_is_empty(peer.get("podSelector")))


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag ingress rules that admit every source."""
    inv = facts.inventory
    deny = default_deny_namespaces(inv)
    for pol in inv.network_policies:
        if not pol.governs_ingress:
            continue
        for index, rule in enumerate(pol.ingress):
            peers = rule.get("from")
            if not peers or any(_open_peer(p) for p in peers):
                impact = 2 if "Ingress" in deny.get(pol.namespace, set()) \
                    and not pol.selects_all else 3
                yield RULE.finding(pol.id, [located(inv, pol.id, f"/spec/ingress/{index}",
                                                    rule)],
                                   detail=str(index), impact=impact,
                                   title=f"{pol.id} admits ingress from anywhere")
                break
