"""Containers with a writable root filesystem."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import containers
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.writable-root-filesystem",
    title="Writable root filesystem",
    phase=Phase.CONTROLS,
    stride=(Stride.TAMPERING,),
    likelihood=2, impact=2,
    description=("An attacker in a container with a writable root filesystem can drop tools "
                 "and change binaries."),
    tactics=(refs.TA.PERSISTENCE, refs.TA.DEFENSE_EVASION),
    techniques=("T1525",),
    references=(*refs.nsa("immutable-filesystem"), *refs.WORKLOAD),
    remediation="Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes "
                "where the process must write.",
    false_positives="Processes that write to their image's filesystem need emptyDir mounts "
                    "first.",
    kb_topics=("readonly-root-fs",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag containers without readOnlyRootFilesystem: true."""
    inv = facts.inventory
    for wl, container in containers(inv):
        value = container.security_context.get("readOnlyRootFilesystem")
        if value is True:
            continue
        yield RULE.finding(
            wl.id, [located(inv, wl.id,
                            container.path + "/securityContext/readOnlyRootFilesystem", value)],
            detail=container.name,
            title=f"Container {container.name} in {wl.name} has a writable root filesystem")
