"""The shared shape of the risk-review rules: one finding per target the attack paths reach.

Each rule reports the targets of one kind (the cluster, a node pool, a cloud identity, a data
store, Secrets) that some attack path reaches, from the attack graph of the findings the
earlier phases kept (:func:`agents.attack_graph.analyse`). The finding takes the most likely
path's likelihood and impact, its hops as evidence, the origins that reach the target in its
text, and as recommendation the fix that cuts most of those paths.

A target becomes a finding only through paths that chain weaknesses
(:func:`agents.attack_graph.paths.compounds`): a finding on a hop before the last one. A path
whose only evidence is its last step (a workload's own escape or cloud role, a client
reaching its own database) repeats what the earlier phases report, and one from a node pool
says nothing about the application (every workload runs on some node). Every path stays in
the model's paths.
"""

from __future__ import annotations

from collections.abc import Iterator

from agents.attack_graph import analyse
from agents.attack_graph.paths import Candidate, compounds, hops_of
from agents.facts.derived import Facts
from agents.rules.base import RuleMeta, located
from workflow.domain.attack_graph import TargetKind
from workflow.domain.threat_model import Finding

__all__ = ["target_findings"]


def target_findings(rule: RuleMeta, facts: Facts, kind: TargetKind) -> Iterator[Finding]:
    """One finding per target of ``kind`` that an attack path reaches."""
    analysis = analyse(facts)
    by_target: dict[str, list[Candidate]] = {}
    for item in analysis.candidates:
        if item.target_kind == kind and compounds(analysis.graph, item):
            by_target.setdefault(item.target, []).append(item)
    findings = {f.id: f for f in facts.findings}
    inv = facts.inventory
    for target, paths in sorted(by_target.items()):
        best = paths[0]  # candidates are ranked
        hops = hops_of(analysis.graph, best.steps)
        vertex = analysis.graph.vertex(target)
        label = vertex.label if vertex is not None else target
        origins = sorted({p.origin for p in paths})
        weights: dict[str, float] = {}
        for path in paths:
            for fid in analysis.cuts.of[path.id]:
                weights[fid] = weights.get(fid, 0.0) + path.score
        fix = min(weights, key=lambda f: (-weights[f], f)) if weights else None
        chain = " -> ".join([best.origin, *(f"{h.to} ({h.attack})" for h in hops)])
        shown = ", ".join(origins[:5]) + (f" and {len(origins) - 5} more" if len(origins) > 5
                                          else "")
        description = (f"{rule.description} {len(paths)} path(s) from {len(origins)} "
                       f"origin(s) reach it ({shown}). The most likely: {chain}.")
        recommendation = None
        if fix is not None and fix in findings:
            recommendation = (f"{findings[fix].recommendation} (fixing {fix} cuts "
                              f"{sum(1 for p in paths if fix in analysis.cuts.of[p.id])} of "
                              f"these paths)")
        evidence = [located(inv, hop.to, "", f"{hop.attack} from {hop.source}: "
                            f"{hop.condition}"[:500]) for hop in hops]
        yield rule.finding(
            (target, *dict.fromkeys(p.origin for p in paths[:5])), evidence,
            likelihood=best.likelihood, impact=best.impact, description=description,
            title=f"{rule.title}: {label} (from {best.origin})",
            recommendation=recommendation)
