"""NodePort Services."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="network.nodeport-service",
    title="Service exposed on every node (NodePort)",
    phase=Phase.NETWORK,
    stride=(Stride.SPOOFING, Stride.DENIAL_OF_SERVICE),
    likelihood=3, impact=3,
    description=("A NodePort opens the service on a port of every node, bypassing ingress "
                 "controllers and their TLS and authentication; anyone who reaches a node IP "
                 "reaches the service."),
    tactics=(refs.TA.INITIAL_ACCESS,),
    techniques=("T1133", "T1190"),
    ms_matrix=("MS-TA9005",),
    references=(*refs.nsa("network-separation"), *refs.NETWORK, *refs.EXPOSED),
    remediation="Use a ClusterIP Service behind an Ingress or an internal LoadBalancer "
                "instead of NodePort.",
    false_positives="Bare-metal clusters where NodePort is the ingress path, behind a "
                    "firewall.",
    kb_topics=("nodeport-exposure",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag Services of type NodePort."""
    inv = facts.inventory
    for svc in inv.services:
        if svc.type == "NodePort":
            yield RULE.finding(svc.id, [located(inv, svc.id, "/spec/type", "NodePort")],
                               title=f"{svc.id} is a NodePort service")
