"""Public LoadBalancer Services without source ranges."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.exposure import lb_restricted
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="network.loadbalancer-service",
    title="Service reachable from the internet (LoadBalancer)",
    phase=Phase.NETWORK,
    stride=(Stride.SPOOFING, Stride.DENIAL_OF_SERVICE),
    likelihood=3, impact=3,
    description=("A LoadBalancer Service without loadBalancerSourceRanges or an internal "
                 "annotation gets a public address: its pods are an internet entry point, "
                 "without the TLS and filtering an ingress controller or gateway would add."),
    tactics=(refs.TA.INITIAL_ACCESS,),
    techniques=("T1190", "T1133"),
    ms_matrix=("MS-TA9005",),
    references=(*refs.nsa("network-separation"), *refs.NETWORK, *refs.EXPOSED),
    remediation="Restrict loadBalancerSourceRanges, make the load balancer internal, or put "
                "the service behind an Ingress or gateway with TLS.",
    false_positives="Public front ends that are meant to be internet-facing (record the "
                    "decision).",
    kb_topics=("loadbalancer-exposure",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag LoadBalancer Services that are neither internal nor limited by source ranges."""
    inv = facts.inventory
    for svc in inv.services:
        if svc.type == "LoadBalancer" and not lb_restricted(inv.get(svc.id)):
            yield RULE.finding(svc.id, [located(inv, svc.id, "/spec/type", "LoadBalancer")],
                               title=f"{svc.id} is a public LoadBalancer")
