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
                 "admits every pod (or address), undoing the isolation the policy promises on "
                 "the ports it opens: every port when it names none, only those it names "
                 "otherwise."),
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


def _who(peers: Any) -> str | None:
    """Who an ingress rule admits when that is everyone, in words; None when it is not."""
    if not peers:
        return "anywhere (every pod and address)"
    for peer in peers:
        if not isinstance(peer, dict):
            continue
        block = peer.get("ipBlock")
        if isinstance(block, dict) and str(block.get("cidr")) in {"0.0.0.0/0", "::/0"} \
                and not block.get("except"):
            return "any address"
        if "namespaceSelector" in peer and selector_is_empty(peer.get("namespaceSelector")) \
                and selector_is_empty(peer.get("podSelector")):
            return "any pod in any namespace"
    return None


def _ports(rule: dict[str, Any]) -> list[str]:
    """The ports a rule opens, as text; empty when it opens every port."""
    out = []
    for port in rule.get("ports") or []:
        if not isinstance(port, dict) or port.get("port") is None:
            return []
        end = f"-{port['endPort']}" if port.get("endPort") else ""
        out.append(f"{port['port']}{end}/{str(port.get('protocol') or 'TCP').upper()}")
    return out


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag ingress rules that admit every source, saying which ports they open to it."""
    inv = facts.inventory
    deny = default_deny_namespaces(inv)
    for pol in inv.network_policies:
        if not pol.governs_ingress:
            continue
        for index, rule in enumerate(pol.ingress):
            who = _who(rule.get("from"))
            if who is None:
                continue
            ports = _ports(rule)
            impact = 2 if ports or ("Ingress" in deny.get(pol.namespace, set())
                                    and not pol.selects_all) else 3
            what = f"port {', '.join(ports)}" if ports else "every port"
            ptr = pol.rule_pointer("ingress", index)
            yield RULE.finding(pol.id, [located(inv, pol.id, ptr, rule)],
                               detail=str(index), impact=impact,
                               title=f"{pol.id} admits {what} from {who}")
            break
