"""Unmasked /proc."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import containers
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.proc-mount",
    title="Unmasked /proc mount",
    phase=Phase.CONTROLS,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.ELEVATION_OF_PRIVILEGE),
    likelihood=2, impact=4,
    description="procMount: Unmasked exposes kernel interfaces under /proc that are masked by "
                "default.",
    tactics=(refs.TA.PRIVILEGE_ESCALATION,),
    techniques=("T1611",),
    references=(*refs.pss("baseline/proc-mount-type"), *refs.WORKLOAD),
    remediation="Remove procMount or set it to Default.",
    false_positives="Nested container runtimes (rootless builds) in user namespaces.",
    kb_topics=("proc-mount-sysctls",),
    harm="node",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag containers with securityContext.procMount other than Default."""
    inv = facts.inventory
    for wl, container in containers(inv):
        value = container.security_context.get("procMount")
        if value is not None and value != "Default":
            yield RULE.finding(wl.id, [located(
                inv, wl.id, container.path + "/securityContext/procMount", value)],
                detail=container.name,
                title=f"Container {container.name} in {wl.name} mounts /proc unmasked")
