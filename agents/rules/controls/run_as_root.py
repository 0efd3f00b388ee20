"""Containers that may run as root (UID 0)."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import container_value, containers
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.run-as-root",
    title="Container may run as root",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE,),
    likelihood=2, impact=3,
    description=("Without runAsNonRoot: true (or a non-zero runAsUser) the image decides, and "
                 "most images run as root; root in a container is one kernel bug away from "
                 "root on the node."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION,),
    techniques=("T1611",),
    references=(*refs.cis("5.2.7"), *refs.pss("restricted/running-as-non-root",
                                              "restricted/running-as-non-root-user"),
                *refs.nsa("non-root"), *refs.WORKLOAD),
    remediation="Set runAsNonRoot: true and a non-zero runAsUser in the pod or container "
                "securityContext.",
    false_positives="Images that already declare a non-root USER still pass only with "
                    "runAsNonRoot set, which the kubelet then verifies.",
    kb_topics=("run-as-root",),
    harm="container",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag containers that run as UID 0 or are not forced to run as non-root."""
    inv = facts.inventory
    for wl, container in containers(inv):
        user = container_value(wl, container, "runAsUser")
        non_root = container_value(wl, container, "runAsNonRoot")
        if user == 0:
            where = ("/securityContext/runAsUser" if "runAsUser" in container.security_context
                     else None)
            path = container.path + where if where else wl.pod.path + "/securityContext/runAsUser"
            yield RULE.finding(wl.id, [located(inv, wl.id, path, 0)], detail=container.name,
                               impact=4,
                               title=f"Container {container.name} in {wl.name} runs as root")
        elif non_root is not True and not (isinstance(user, int) and user > 0):
            yield RULE.finding(
                wl.id, [located(inv, wl.id, container.path + "/securityContext/runAsNonRoot",
                                non_root)],
                detail=container.name,
                title=f"Container {container.name} in {wl.name} may run as root")
