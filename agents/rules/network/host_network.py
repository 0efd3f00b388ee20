"""Pods on the node's network namespace."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="network.host-network",
    title="Pod uses the host network",
    phase=Phase.NETWORK,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.SPOOFING, Stride.ELEVATION_OF_PRIVILEGE),
    likelihood=3, impact=4,
    description=("With hostNetwork the pod listens on the node's interfaces, bypasses "
                 "NetworkPolicy, and can reach node-local services such as the kubelet and "
                 "the metadata endpoint."),
    tactics=(refs.TA.LATERAL_MOVEMENT, refs.TA.CREDENTIAL_ACCESS),
    techniques=("T1557", "T1552.005"),
    ms_matrix=("MS-TA9036", "MS-TA9033"),
    references=(*refs.cis("5.2.5"), *refs.pss("baseline/host-namespaces"),
                *refs.nsa("pod-security"), *refs.WORKLOAD, *refs.NETWORK),
    remediation="Remove hostNetwork: true; expose the pod through a Service.",
    false_positives="CNI and node agents that must manage the node network.",
    kb_topics=("host-network", "host-namespaces"),
    harm="node",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag pod specs with hostNetwork: true."""
    inv = facts.inventory
    for wl in inv.workloads:
        if wl.pod.flag("hostNetwork"):
            yield RULE.finding(wl.id, [located(inv, wl.id, wl.pod.path + "/hostNetwork", True)],
                               title=f"{wl.kind} {wl.name} uses the host network")
