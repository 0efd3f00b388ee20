"""Privileged containers: root on the node, every device, no isolation left."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import containers
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.scoring import Impact, Likelihood
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.privileged-container",
    title="Privileged container",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.TAMPERING),
    likelihood=Likelihood.ONE_STEP, impact=Impact.SYSTEM,
    description=("A privileged container runs with every capability and the host's devices; "
                 "whoever runs code in it controls the node (every node, for a DaemonSet)."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.EXECUTION),
    techniques=("T1610", "T1611"),
    ms_matrix=("MS-TA9018",),
    references=(*refs.cis("5.2.2"), *refs.pss("baseline/privileged"),
                *refs.nsa("pod-security"), *refs.WORKLOAD),
    remediation="Remove securityContext.privileged or set it to false; grant only the "
                "specific capabilities the process needs.",
    false_positives="Node agents (CNI, storage or device plugins) may need it; they belong in "
                    "a separate, tightly controlled namespace.",
    kb_topics=("privileged-container",),
    harm="node",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag every container whose securityContext sets privileged: true."""
    inv = facts.inventory
    for wl, container in containers(inv):
        if container.security_context.get("privileged") is True:
            yield RULE.finding(wl.id, [located(inv, wl.id, container.path
                                               + "/securityContext/privileged", True)],
                               detail=container.name,
                               title=f"Privileged container {container.name} in {wl.name}")
