"""Linux capabilities added to containers."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import BASELINE_CAPABILITIES, containers
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["DANGEROUS_CAPABILITIES", "RULE", "evaluate"]

#: Capabilities that amount to (or lead straight to) root on the node.
DANGEROUS_CAPABILITIES = frozenset({
    "ALL", "SYS_ADMIN", "SYS_PTRACE", "SYS_MODULE", "NET_ADMIN", "DAC_READ_SEARCH", "BPF",
    "PERFMON", "SYS_RAWIO", "SYS_BOOT", "SYS_TIME", "MAC_ADMIN", "MAC_OVERRIDE", "NET_RAW",
    "SYSLOG", "SYS_RESOURCE"})

RULE = RuleMeta(
    id="controls.capabilities-added",
    title="Capabilities added to a container",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE,),
    likelihood=2, impact=2,
    description=("Added capabilities widen what a compromised process may do; SYS_ADMIN, "
                 "SYS_PTRACE, NET_ADMIN and similar lead to the node. The restricted profile "
                 "allows adding only NET_BIND_SERVICE."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION,),
    techniques=("T1611",),
    ms_matrix=("MS-TA9018",),
    references=(*refs.cis("5.2.9", "5.2.10"), *refs.pss("baseline/capabilities",
                                                         "restricted/capabilities"),
                *refs.nsa("pod-security"), *refs.WORKLOAD),
    remediation="Remove capabilities from securityContext.capabilities.add unless the process "
                "needs them; never add SYS_ADMIN or ALL.",
    false_positives="Network plugins need NET_ADMIN; such pods belong in a system namespace.",
    kb_topics=("capabilities",),
    harm="node",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag containers that add any capability other than NET_BIND_SERVICE."""
    inv = facts.inventory
    for wl, container in containers(inv):
        caps = container.security_context.get("capabilities")
        added = caps.get("add") if isinstance(caps, dict) else None
        if not isinstance(added, list):
            continue
        names = sorted({str(c).upper().removeprefix("CAP_") for c in added}
                       - {"NET_BIND_SERVICE"})
        if not names:
            continue
        dangerous = [n for n in names if n in DANGEROUS_CAPABILITIES]
        beyond = [n for n in names if n not in BASELINE_CAPABILITIES]
        impact = 5 if dangerous and dangerous != ["NET_RAW"] else 3 if beyond else 2
        likelihood = 3 if impact == 5 else 2
        yield RULE.finding(
            wl.id, [located(inv, wl.id, container.path + "/securityContext/capabilities/add",
                            names)],
            detail=container.name, impact=impact, likelihood=likelihood,
            title=f"Container {container.name} in {wl.name} adds {', '.join(names)}")
