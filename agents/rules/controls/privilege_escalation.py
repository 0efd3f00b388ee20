"""allowPrivilegeEscalation left on (setuid binaries can gain privileges)."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import containers
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.privilege-escalation",
    title="Privilege escalation allowed",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE,),
    likelihood=2, impact=3,
    description=("Unless allowPrivilegeEscalation is false, a process can gain more privileges "
                 "than its parent (setuid binaries, file capabilities)."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION,),
    techniques=("T1548",),
    references=(*refs.cis("5.2.6"), *refs.pss("restricted/privilege-escalation"),
                *refs.nsa("pod-security"), *refs.WORKLOAD),
    remediation="Set securityContext.allowPrivilegeEscalation: false on every container.",
    false_positives="Images that rely on sudo or setuid helpers.",
    kb_topics=("privilege-escalation",),
    harm="container",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag containers without allowPrivilegeEscalation: false.

    A privileged container is left to its own rule unless it also sets the field to true.
    """
    inv = facts.inventory
    for wl, container in containers(inv):
        value = container.security_context.get("allowPrivilegeEscalation")
        if value is False or (value is None
                              and container.security_context.get("privileged") is True):
            continue
        yield RULE.finding(
            wl.id, [located(inv, wl.id,
                            container.path + "/securityContext/allowPrivilegeEscalation",
                            value)],
            detail=container.name, impact=4 if value is True else 3,
            title=f"Container {container.name} in {wl.name} may escalate privileges")
