"""One analysis of the attack graph: graph, candidate paths, kept paths, choke points, summary.

:func:`analyse` builds it from a run's facts (kept on the facts, computed once for the rules of
the risk review and once for the reviewer); :func:`analyse_graph` from a graph a threat model
carries, optionally as if some findings were fixed (``ktmb paths --without``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agents.attack_graph.build import build_graph
from agents.attack_graph.choke import Cuts, choke_points, top_fixes
from agents.attack_graph.graph import AttackGraph
from agents.attack_graph.paths import MAX_PATHS, Candidate, compounds, find_candidates, select
from agents.attack_graph.proposals import check_proposals
from agents.facts.derived import Facts
from workflow.domain.attack_graph import AttackGraph as GraphModel
from workflow.domain.attack_graph import AttackPath, ChokePoint, PathSummary
from workflow.domain.bands import Severity
from workflow.domain.threat_model import Finding

__all__ = ["AttackAnalysis", "analyse", "analyse_graph"]


@dataclass
class AttackAnalysis:
    """Everything the attack graph tells about one application.

    Attributes:
        graph: the graph.
        candidates: every origin's best path to every target (kind) it reaches.
        kept: the paths the model keeps (bounded).
        cuts: which findings cut which candidates.
        choke_points: the fixes ranked by the paths they cut.
        summary: counts, and the top fixes.
    """

    graph: AttackGraph
    candidates: list[Candidate]
    kept: list[Candidate]
    cuts: Cuts
    choke_points: tuple[ChokePoint, ...]
    summary: PathSummary

    @property
    def paths(self) -> tuple[AttackPath, ...]:
        """The kept paths as the threat model carries them (the model's are numbered)."""
        out = []
        proposed = 0
        for item in self.kept:
            proposed += item.source == "model"
            path_id = f"{item.id}#model-{proposed}" if item.source == "model" else None
            out.append(item.model(self.graph, path_id))
        return tuple(out)

    def as_text(self, limit: int = 30) -> str:
        """The graph as a prompt shows it.

        The attack types, the targets, and the kept paths as chains of vertex ids and attack
        types.
        """
        kinds = sorted({s.attack.value for s in self.graph.steps() if not s.blocked})
        ends = sorted({c.target for c in self.candidates})
        lines = [f"Attack types: {', '.join(kinds) or 'none'}",
                 f"Targets: {', '.join(ends) or 'none'}", "Paths:"]
        for path in self.paths[:limit]:
            chain = path.origin + "".join(f" -[{h.attack}]-> {h.to}" for h in path.hops)
            lines.append(f"- ({path.severity.value}) {chain}")
        if len(self.paths) > limit:
            lines.append(f"({len(self.paths) - limit} more paths not shown)")
        return "\n".join(lines)

    def raising(self) -> dict[str, str]:
        """Finding id -> the first critical or high kept path that chains it with others.

        Such findings get their likelihood raised by the reviewer (a path that only repeats
        one finding, :func:`~agents.attack_graph.paths.compounds`, raises nothing).
        """
        out: dict[str, str] = {}
        for item in self.kept:
            if item.severity in (Severity.CRITICAL, Severity.HIGH) and compounds(self.graph,
                                                                                 item):
                for fid in item.findings:
                    out.setdefault(fid, item.id)
        return out

    def graph_model(self) -> GraphModel:
        """The graph with its choke points and summary, as the threat model carries it."""
        return self.graph.to_model().model_copy(update={
            "choke_points": self.choke_points, "summary": self.summary})


def analyse_graph(graph: AttackGraph, findings: Mapping[str, Finding], *,
                  without: Iterable[str] = (), limit: int = MAX_PATHS,
                  proposals: Sequence[Mapping[str, Any]] = ()) -> AttackAnalysis:
    """Paths, choke points and summary of a graph.

    Args:
        graph: the graph.
        findings: the findings by id (titles and recommendations of the choke points).
        without: findings taken as fixed: the steps that require them are left out.
        limit: how many paths to keep (the rest are counted).
        proposals: paths the model proposed; those the graph holds are kept besides the
            search's (:func:`agents.attack_graph.proposals.check_proposals`), the rest counted.
    """
    fixed = tuple(without)
    search = graph.search_graph(fixed)
    candidates = find_candidates(graph, search)
    kept, dominated = select(candidates, limit)
    proposed, drops = check_proposals(graph, proposals, candidates)
    kept += proposed
    cuts = Cuts(graph, candidates, fixed)
    fixes, share, band = top_fixes(cuts)
    summary = PathSummary(
        candidates=len(candidates), kept=len(kept), omitted=len(candidates) - len(kept)
        - dominated, dominated=dominated,
        by_origin=dict(sorted(Counter(c.origin_kind for c in candidates).items())),
        by_target=dict(sorted(Counter(c.target_kind for c in candidates).items())),
        by_severity=dict(Counter(c.severity.value for c in candidates)),
        top_fixes=fixes, top_fixes_share=share, top_fixes_band=band,
        model_proposed=len(proposals), model_dropped=sum(drops.values()))
    return AttackAnalysis(graph, candidates, kept, cuts, choke_points(cuts, findings),
                          summary)


def analyse(facts: Facts, *, limit: int = MAX_PATHS,
            proposals: Sequence[Mapping[str, Any]] = ()) -> AttackAnalysis:
    """The analysis of a run's facts and the findings they chain (computed once per facts).

    Model proposals, when given, are checked against that analysis's graph.
    """

    def compute(current: Facts) -> AttackAnalysis:
        by_id = {f.id: f for f in current.findings}
        return analyse_graph(build_graph(current), by_id, limit=limit)

    analysis = facts.derive(f"attack-analysis:{limit}", compute)
    if not proposals:
        return analysis
    return analyse_graph(analysis.graph, {f.id: f for f in facts.findings}, limit=limit,
                         proposals=proposals)
