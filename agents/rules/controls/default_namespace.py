"""Workloads deployed to the default namespace."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.default-namespace",
    title="Workload in the default namespace",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE,),
    likelihood=3, impact=2,
    description=("The default namespace is shared by everything deployed without a "
                 "namespace, so policies, quotas and RBAC scoped to it cover unrelated "
                 "workloads; it is where most people and tools hold rights, so a foothold "
                 "there is common."),
    tactics=(refs.TA.LATERAL_MOVEMENT,),
    techniques=("T1210",),
    references=(*refs.cis("5.7.1", "5.7.4"), *refs.nsa("namespaces")),
    remediation="Deploy the application into its own namespace.",
    false_positives="Manifests rendered without a namespace that the pipeline sets at apply "
                    "time.",
    kb_topics=("default-namespace",),
    per_node=False,
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag workloads whose namespace is default."""
    inv = facts.inventory
    for wl in inv.workloads:
        if wl.namespace == "default" and wl.kind != "PodTemplate":
            yield RULE.finding(wl.id, [located(inv, wl.id, "/metadata/namespace",
                                               "default")],
                               title=f"{wl.kind} {wl.name} runs in the default namespace")
