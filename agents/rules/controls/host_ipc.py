"""Pods sharing the node's IPC namespace."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.host-ipc",
    title="Pod shares the host IPC namespace",
    phase=Phase.CONTROLS,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING),
    likelihood=2, impact=3,
    description=("With hostIPC the pod can read and write the shared memory of every process "
                 "on the node."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.COLLECTION),
    techniques=("T1611",),
    references=(*refs.cis("5.2.4"), *refs.pss("baseline/host-namespaces"),
                *refs.nsa("pod-security"), *refs.WORKLOAD),
    remediation="Remove hostIPC: true from the pod spec.",
    false_positives="Rare; some legacy shared-memory workloads.",
    kb_topics=("host-ipc", "host-namespaces"),
    harm="node",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag pod specs with hostIPC: true."""
    inv = facts.inventory
    for wl in inv.workloads:
        if wl.pod.flag("hostIPC"):
            yield RULE.finding(wl.id, [located(inv, wl.id, wl.pod.path + "/hostIPC", True)],
                               title=f"{wl.kind} {wl.name} shares the host IPC namespace")
