"""Choke points: the fixes that cut the most attack paths, weighted by their scores.

A fix is a finding's recommendation. Fixing a finding cuts a path when one of the path's
steps requires it and every other step between the same two vertices does too (a second way
across keeps the path alive). Fixes are ranked by the summed scores of the paths they cut; the
top fixes are chosen greedily, each cutting most of what the previous ones left, over the
critical paths (or the high ones when none is critical): "fixing these three removes 80% of
the critical paths".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from agents.attack_graph.graph import AttackGraph
from agents.attack_graph.paths import Candidate
from workflow.domain.attack_graph import ChokePoint
from workflow.domain.bands import Severity
from workflow.domain.threat_model import Finding

__all__ = ["Cuts", "choke_points", "top_fixes"]


class Cuts:
    """Which findings cut which candidate paths (what a fix of each one alone removes)."""

    def __init__(self, graph: AttackGraph, candidates: Iterable[Candidate],
                 without: Iterable[str] = ()) -> None:
        fixed = frozenset(without)
        memo: dict[tuple[str, str], frozenset[str]] = {}
        self.of: dict[str, frozenset[str]] = {}
        self.candidates = list(candidates)
        for item in self.candidates:
            found: set[str] = set()
            for step in item.steps:
                pair = (step.source, step.target)
                if pair not in memo:
                    alive = [s.requires for s in graph.steps_between(*pair)
                             if not s.blocked and not fixed.intersection(s.requires)]
                    common = set(alive[0]) if alive else set()
                    for requires in alive[1:]:
                        common &= set(requires)
                    memo[pair] = frozenset(common)
                found |= memo[pair]
            self.of[item.id] = frozenset(found)

    def cut_by(self, finding: str, items: Iterable[Candidate]) -> list[Candidate]:
        """The candidates among ``items`` that fixing ``finding`` cuts."""
        return [c for c in items if finding in self.of[c.id]]


def choke_points(cuts: Cuts, findings: Mapping[str, Finding], *, top: int = 10
                 ) -> tuple[ChokePoint, ...]:
    """The fixes ranked by the weight of the paths they cut."""
    total = sum(c.score for c in cuts.candidates) or 1.0
    weight: dict[str, float] = {}
    count: dict[str, int] = {}
    for item in cuts.candidates:
        for finding in cuts.of[item.id]:
            weight[finding] = weight.get(finding, 0.0) + item.score
            count[finding] = count.get(finding, 0) + 1
    ranked = sorted(weight, key=lambda f: (-weight[f], -count[f], f))[:top]
    out = []
    for fid in ranked:
        known = findings.get(fid)
        out.append(ChokePoint(finding=fid, title=known.title if known else "",
                              recommendation=known.recommendation if known else "",
                              paths=count[fid], weight=round(weight[fid], 1),
                              share=round(weight[fid] / total, 3)))
    return tuple(out)


def top_fixes(cuts: Cuts, *, size: int = 3) -> tuple[tuple[str, ...], float, str]:
    """(findings, share of the band's weight they cut, band) for the best ``size`` fixes."""
    for band in (Severity.CRITICAL, Severity.HIGH):
        pool = [c for c in cuts.candidates if c.severity is band]
        if pool:
            break
    else:
        return (), 0.0, ""
    total = sum(c.score for c in pool)
    left = list(pool)
    chosen: list[str] = []
    while left and len(chosen) < size:
        gains: dict[str, float] = {}
        for item in left:
            for finding in cuts.of[item.id]:
                gains[finding] = gains.get(finding, 0.0) + item.score
        if not gains:
            break
        best = min(gains, key=lambda f: (-gains[f], f))
        chosen.append(best)
        left = [c for c in left if best not in cuts.of[c.id]]
    cut = total - sum(c.score for c in left)
    return tuple(chosen), round(cut / total, 3) if total else 0.0, band.value
