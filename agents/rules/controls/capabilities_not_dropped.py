"""Containers that keep the runtime's default capabilities."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import containers
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.capabilities-not-dropped",
    title="Container does not drop all capabilities",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.SPOOFING),
    likelihood=2, impact=2,
    description=("Without capabilities.drop: [ALL] the container keeps the runtime defaults, "
                 "including NET_RAW (packet spoofing inside the cluster network)."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.LATERAL_MOVEMENT),
    techniques=("T1611", "T1557"),
    ms_matrix=("MS-TA9036",),
    references=(*refs.cis("5.2.8", "5.2.10"), *refs.pss("restricted/capabilities"),
                *refs.nsa("pod-security"), *refs.WORKLOAD),
    remediation="Set securityContext.capabilities.drop: [ALL] and add back only what the "
                "process needs.",
    false_positives="None for application containers.",
    kb_topics=("capabilities",),
    harm="container",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag containers whose capabilities.drop lacks ALL."""
    inv = facts.inventory
    for wl, container in containers(inv):
        if container.security_context.get("privileged") is True:
            continue
        caps = container.security_context.get("capabilities")
        dropped = caps.get("drop") if isinstance(caps, dict) else None
        names = {str(c).upper() for c in dropped} if isinstance(dropped, list) else set()
        if "ALL" in names:
            continue
        value = sorted(names) if names else None
        yield RULE.finding(
            wl.id, [located(inv, wl.id, container.path + "/securityContext/capabilities/drop",
                            value)],
            detail=container.name,
            title=f"Container {container.name} in {wl.name} does not drop ALL capabilities")
