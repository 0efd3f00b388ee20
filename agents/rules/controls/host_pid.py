"""Pods sharing the node's process namespace."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import runs_as_non_root
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.scoring import Impact, Likelihood
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.host-pid",
    title="Pod shares the host PID namespace",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE),
    likelihood=Likelihood.ONE_STEP, impact=Impact.SYSTEM,
    description=("With hostPID the pod sees every process on the node, can read their "
                 "environment and, as root, signal or trace them."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.DISCOVERY),
    techniques=("T1611",),
    ms_matrix=("MS-TA9018",),
    references=(*refs.cis("5.2.3"), *refs.pss("baseline/host-namespaces"),
                *refs.nsa("pod-security"), *refs.WORKLOAD),
    remediation="Remove hostPID: true from the pod spec.",
    false_positives="Node monitoring agents sometimes need it; isolate them.",
    kb_topics=("host-pid", "host-namespaces"),
    harm="node",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag pod specs with hostPID: true."""
    inv = facts.inventory
    for wl in inv.workloads:
        if wl.pod.flag("hostPID"):
            non_root = runs_as_non_root(wl)
            yield RULE.finding(wl.id, [located(inv, wl.id, wl.pod.path + "/hostPID", True)],
                               impact=Impact.SERVICE if non_root else None,
                               title=f"{wl.kind} {wl.name} shares the host PID namespace"
                                     + (" (as non-root: process list and command lines)"
                                        if non_root else ""))
