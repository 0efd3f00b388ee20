"""Sysctls outside the safe set."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import SAFE_SYSCTLS
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.unsafe-sysctls",
    title="Unsafe sysctl",
    phase=Phase.CONTROLS,
    stride=(Stride.DENIAL_OF_SERVICE, Stride.TAMPERING),
    likelihood=2, impact=3,
    description="Sysctls outside the namespaced safe set can change the whole node's kernel "
                "behaviour for every pod on it.",
    tactics=(refs.TA.IMPACT, refs.TA.PRIVILEGE_ESCALATION),
    techniques=("T1499",),
    ms_matrix=("MS-TA9040",),
    references=(*refs.pss("baseline/sysctls"), *refs.WORKLOAD),
    remediation="Remove unsafe sysctls from securityContext.sysctls; tune nodes instead.",
    false_positives="Dedicated nodes tuned for one workload.",
    kb_topics=("proc-mount-sysctls",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag pod-level sysctls that the baseline profile does not allow."""
    inv = facts.inventory
    for wl in inv.workloads:
        sysctls = wl.pod.security_context.get("sysctls")
        for index, item in enumerate(sysctls if isinstance(sysctls, list) else []):
            name = str(item.get("name", "")) if isinstance(item, dict) else ""
            if name and name not in SAFE_SYSCTLS:
                yield RULE.finding(wl.id, [located(
                    inv, wl.id, f"{wl.pod.path}/securityContext/sysctls/{index}/name", name)],
                    detail=name, title=f"{wl.kind} {wl.name} sets the unsafe sysctl {name}")
