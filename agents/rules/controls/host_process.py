"""Windows HostProcess containers."""

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
    id="controls.host-process",
    title="Windows HostProcess container",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE,),
    likelihood=Likelihood.ONE_STEP, impact=Impact.SYSTEM,
    description="A HostProcess container runs directly on the Windows node with host access.",
    tactics=(refs.TA.PRIVILEGE_ESCALATION,),
    techniques=("T1611", "T1610"),
    ms_matrix=("MS-TA9018",),
    references=(*refs.cis("5.2.11"), *refs.pss("baseline/hostprocess"), *refs.WORKLOAD),
    remediation="Remove windowsOptions.hostProcess; run node tasks outside application "
                "namespaces.",
    false_positives="Windows node agents.",
    kb_topics=("windows-hostprocess",),
    harm="node",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag pods or containers with windowsOptions.hostProcess: true."""
    inv = facts.inventory
    for wl, container in containers(inv):
        for where, ctx in ((container.path, container.security_context),
                           (wl.pod.path, wl.pod.security_context)):
            opts = ctx.get("windowsOptions")
            if isinstance(opts, dict) and opts.get("hostProcess") is True:
                yield RULE.finding(wl.id, [located(
                    inv, wl.id, where + "/securityContext/windowsOptions/hostProcess", True)],
                    detail=container.name,
                    title=f"Container {container.name} in {wl.name} is a HostProcess container")
                break
