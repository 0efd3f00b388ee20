"""Services with externalIPs."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="network.external-ips",
    title="Service claims external IPs",
    phase=Phase.NETWORK,
    stride=(Stride.SPOOFING, Stride.INFORMATION_DISCLOSURE),
    likelihood=2, impact=3,
    description=("externalIPs make every node accept traffic for those addresses; whoever can "
                 "create such a Service can intercept traffic to any IP (CVE-2020-8554)."),
    tactics=(refs.TA.INITIAL_ACCESS, refs.TA.COLLECTION),
    techniques=("T1557", "T1133"),
    references=(*refs.nsa("network-separation"), *refs.NETWORK, *refs.EXPOSED),
    remediation="Use a LoadBalancer or Ingress instead, and block externalIPs with an "
                "admission policy.",
    false_positives="Bare-metal setups that route a dedicated address to the nodes.",
    kb_topics=("loadbalancer-exposure",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag Services that set spec.externalIPs."""
    inv = facts.inventory
    for svc in inv.services:
        if svc.external_ips:
            yield RULE.finding(svc.id, [located(inv, svc.id, "/spec/externalIPs",
                                                list(svc.external_ips))],
                               title=f"{svc.id} claims external IPs")
