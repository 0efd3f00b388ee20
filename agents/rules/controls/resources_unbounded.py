"""Containers without CPU and memory limits or requests."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import containers
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.resources-unbounded",
    title="No resource limits",
    phase=Phase.CONTROLS,
    stride=(Stride.DENIAL_OF_SERVICE,),
    likelihood=2, impact=2,
    description=("A container without memory and CPU limits can starve its neighbours on the "
                 "node (or mine cryptocurrency at the cluster's expense)."),
    tactics=(refs.TA.IMPACT,),
    techniques=("T1496", "T1499"),
    ms_matrix=("MS-TA9039", "MS-TA9040"),
    references=(*refs.nsa("resource-policies"), *refs.WORKLOAD),
    remediation="Set resources.requests and resources.limits for cpu and memory (or a "
                "namespace LimitRange).",
    false_positives="Namespaces with a LimitRange that sets defaults.",
    kb_topics=("resource-limits",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag containers missing a memory or cpu limit or request (unless a LimitRange exists)."""
    inv = facts.inventory
    ranged = {r.namespace for r in inv.of_kind("LimitRange")}
    for wl, container in containers(inv):
        if container.kind == "ephemeral" or wl.namespace in ranged:
            continue
        res = container.raw.get("resources")
        res = res if isinstance(res, dict) else {}
        missing = [f"{part}.{name}" for part in ("limits", "requests") for name in
                   ("memory", "cpu")
                   if not isinstance(res.get(part), dict) or name not in res[part]]
        if missing:
            yield RULE.finding(wl.id, [located(inv, wl.id, container.path + "/resources",
                                               res or None)],
                               detail=container.name,
                               title=f"Container {container.name} in {wl.name} has no "
                                     + ", ".join(missing))
