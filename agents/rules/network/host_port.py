"""Container ports bound on the node (hostPort)."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import containers
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="network.host-port",
    title="Container binds a host port",
    phase=Phase.NETWORK,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.SPOOFING),
    likelihood=2, impact=3,
    description=("A hostPort opens the container on the node's address, outside Services and "
                 "NetworkPolicy."),
    tactics=(refs.TA.INITIAL_ACCESS,),
    techniques=("T1133",),
    ms_matrix=("MS-TA9005",),
    references=(*refs.cis("5.2.13"), *refs.pss("baseline/host-ports"), *refs.NETWORK),
    remediation="Remove hostPort and expose the container through a Service.",
    false_positives="Ingress controllers and node agents deployed as DaemonSets.",
    kb_topics=("host-ports",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag container ports with a hostPort."""
    inv = facts.inventory
    for wl, container in containers(inv):
        for index, port in enumerate(container.ports):
            if port.get("hostPort"):
                yield RULE.finding(wl.id, [located(
                    inv, wl.id, f"{container.path}/ports/{index}/hostPort", port["hostPort"])],
                    detail=f"{container.name}:{port['hostPort']}",
                    title=f"Container {container.name} in {wl.name} binds host port "
                          f"{port['hostPort']}")
