"""Attack paths: the most likely chain from each origin to each target, scored in code.

Origins: the internet; every workload (a compromised application: assume breach); every user,
group and service account that holds rights (an insider, a stolen credential); every node pool.
Targets: the cluster, node pools, cloud identities, data stores, Secrets (of a namespace or of
every namespace). A path's probability is its origin's prior times the product of its steps'
likelihoods over 5; the search weights each step by ``-log`` of that, so Dijkstra's shortest path
is the most likely one. The score multiplies in the target's impact, so the best path to a kind
of target is the best-scoring one.

The search is linear in the graph: one reverse Dijkstra per target kind, from a sink joined to
every target of that kind (weighted by its impact), gives every vertex its best path to that
kind; one forward Dijkstra from each of the few origins that are not workloads or service
accounts (the internet, users, groups, node pools) gives their best path to every target.
Shared network and scope vertices are shown as one hop. The paths kept are bounded: the best
first, one per route before a second origin on the same route, the rest counted.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx

from agents.attack_graph.graph import COLLAPSED, AttackGraph, Step
from agents.attack_graph.kinds import VertexKind
from workflow.domain.attack_graph import AttackPath, Hop, OriginKind, PathTarget, TargetKind
from workflow.domain.bands import Severity
from workflow.domain.scoring import SEVERITY_ORDER, score, severity

__all__ = [
    "MAX_PATHS",
    "ORIGIN_OF",
    "ORIGIN_ORDER",
    "PRIORS",
    "PROBABILITY_BANDS",
    "Candidate",
    "candidate",
    "compounds",
    "find_candidates",
    "hops_of",
    "likelihood_of",
    "select",
]

#: How many paths a threat model keeps (the rest are counted).
MAX_PATHS = 100
#: The probability that an attacker holds each kind of origin to begin with.
PRIORS: dict[OriginKind, float] = {"internet": 1.0, "workload": 0.4, "user": 0.4,
                                   "group": 0.4, "serviceaccount": 0.4, "node": 0.4}
#: Origins listed first when paths score the same.
ORIGIN_ORDER: tuple[OriginKind, ...] = ("internet", "node", "user", "group", "serviceaccount",
                                        "workload")
_TARGET_KINDS: tuple[TargetKind, ...] = ("cluster", "node", "cloud", "data", "secrets")
#: Path probability -> likelihood on the 1-5 scale.
PROBABILITY_BANDS = ((0.64, 5), (0.32, 4), (0.16, 3), (0.04, 2))
ORIGIN_OF: dict[VertexKind, OriginKind] = {
    VertexKind.INTERNET: "internet", VertexKind.WORKLOAD: "workload", VertexKind.USER: "user",
    VertexKind.GROUP: "group", VertexKind.SERVICE_ACCOUNT: "serviceaccount",
    VertexKind.NODE: "node"}
#: Origins searched forward to every target (their number does not grow with the cluster).
_FORWARD = frozenset({"internet", "node"})


def likelihood_of(probability: float) -> int:
    """The 1-5 likelihood of a path's probability."""
    for floor, value in PROBABILITY_BANDS:
        if probability >= floor:
            return value
    return 1


@dataclass(frozen=True)
class Candidate:
    """A path found by the search, before the bound is applied."""

    origin: str
    origin_kind: OriginKind
    target: str
    target_kind: TargetKind
    steps: tuple[Step, ...]
    probability: float
    likelihood: int
    impact: int
    score: float
    severity: Severity
    source: str = "graph"

    @property
    def id(self) -> str:
        """``<origin>=><target>``."""
        return f"{self.origin}=>{self.target}"

    @property
    def findings(self) -> tuple[str, ...]:
        """The findings the path chains, in order."""
        return tuple(dict.fromkeys(f for step in self.steps for f in step.findings))

    def model(self, graph: AttackGraph, path_id: str | None = None) -> AttackPath:
        """The path as the threat model carries it."""
        return AttackPath(
            id=path_id or self.id, origin=self.origin, origin_kind=self.origin_kind,
            target=PathTarget(kind=self.target_kind,
                              ref=None if self.target_kind == "cluster" else self.target),
            hops=hops_of(graph, self.steps), likelihood=self.likelihood, impact=self.impact,
            score=self.score,
            severity=self.severity, findings=self.findings,
            source="model" if self.source == "model" else "graph")


def compounds(graph: AttackGraph, path: Candidate) -> bool:
    """True when a path chains weaknesses: a finding evidences a hop before its last one.

    Such a path says more than its findings one by one (an exposure that leads to an escape, a
    mounted token that leads to cluster rights). A path whose only evidence is its last hop
    (a workload's own escape or cloud role, a client reaching its own database) does not, and
    neither does one from a node pool (every workload runs on some node).
    """
    if path.origin_kind == "node":
        return False
    last = len(path.steps) - 1
    while last > 0:
        vertex = graph.vertex(path.steps[last].source)
        if vertex is None or vertex.kind not in COLLAPSED:
            break
        last -= 1
    return any(step.findings for step in path.steps[:last])


def hops_of(graph: AttackGraph, steps: Iterable[Step]) -> tuple[Hop, ...]:
    """The hops a reviewer reads: steps through shared vertices joined into one."""
    hops: list[Hop] = []
    buffer: list[Step] = []
    for step in steps:
        buffer.append(step)
        vertex = graph.vertex(step.target)
        if vertex is not None and vertex.kind in COLLAPSED:
            continue
        first = buffer[0]
        hops.append(Hop(
            source=first.source, to=step.target, attack=first.attack.value,
            findings=tuple(dict.fromkeys(f for s in buffer for f in s.findings)),
            condition="; ".join(dict.fromkeys(s.condition for s in buffer if s.condition)),
            controls=tuple(dict.fromkeys(c for s in buffer for c in s.controls))))
        buffer = []
    return tuple(hops)


def candidate(graph: AttackGraph, origin: str, origin_kind: OriginKind,
              steps: tuple[Step, ...], source: str = "graph") -> Candidate | None:
    """A scored candidate from a chain of steps (None when it ends at no target)."""
    end = graph.vertex(steps[-1].target) if steps else None
    if end is None or end.target is None:
        return None
    probability = PRIORS[origin_kind] * math.prod(s.likelihood / 5 for s in steps)
    lik = likelihood_of(probability)
    value = score(lik, end.impact or 1)
    return Candidate(origin, origin_kind, end.id, end.target, steps, probability, lik,
                     end.impact or 1, value, severity(value), source)


def _origins(graph: AttackGraph, search: nx.DiGraph[str]) -> list[tuple[str, OriginKind]]:
    found: list[tuple[str, OriginKind]] = []
    for vertex in graph.vertices():
        kind = ORIGIN_OF.get(vertex.kind)
        if kind is None or search.out_degree(vertex.id) == 0:
            continue
        if kind == "serviceaccount" and not any(
                data["step"].attack.value != "PERMISSION_DISCOVER"
                for _, _, data in search.out_edges(vertex.id, data=True)):
            continue
        found.append((vertex.id, kind))
    return found


def _walk(pred: dict[str, list[str]], start: str, stop: object) -> list[str]:
    """Follow the first predecessor from ``start`` until ``stop`` or the search's source."""
    path = [start]
    while pred[path[-1]]:
        nxt = pred[path[-1]][0]
        if nxt == stop:
            break
        path.append(nxt)
    return path


def _steps(search: nx.DiGraph[str], vertices: list[str]) -> tuple[Step, ...]:
    return tuple(search[u][v]["step"] for u, v in itertools.pairwise(vertices))


def find_candidates(graph: AttackGraph, search: nx.DiGraph[str]) -> list[Candidate]:
    """The best path of every origin to every kind of target, one per origin and target.

    The internet and node pools get their best path to every target they reach.
    """
    origins = _origins(graph, search)
    best: dict[tuple[str, str], Candidate] = {}

    def keep(found: Candidate | None) -> None:
        if found is None or _through_better(graph, found):
            return
        key = (found.origin, found.target)
        known = best.get(key)
        if known is None or (-found.score, len(found.steps)) < (-known.score, len(known.steps)):
            best[key] = found

    targets = [v for v in graph.vertices() if v.target is not None and v.id in search]
    # The reverse search runs on a view of the search graph (copying it would cost more than
    # the search); each kind's sink is joined to it for the search only.
    reverse = search.reverse(copy=False)
    for kind in _TARGET_KINDS:
        ends = [v for v in targets if v.target == kind]
        if not ends:
            continue
        sink = f"\x00sink:{kind}"  # no vertex id starts with a NUL
        for end in ends:
            search.add_edge(end.id, sink, weight=-math.log(max(1, end.impact) / 5))
        try:
            pred, _ = nx.dijkstra_predecessor_and_distance(reverse, sink, weight="weight")
        finally:
            search.remove_node(sink)
        for origin, origin_kind in origins:
            if origin not in pred:
                continue
            vertices = _walk(pred, origin, sink)
            if len(vertices) > 1:
                keep(candidate(graph, origin, origin_kind, _steps(search, vertices)))
    for origin, origin_kind in origins:
        if origin_kind not in _FORWARD:
            continue
        pred, _ = nx.dijkstra_predecessor_and_distance(search, origin, weight="weight")
        for end in targets:
            if end.id != origin and end.id in pred:
                vertices = list(reversed(_walk(pred, end.id, None)))
                keep(candidate(graph, origin, origin_kind, _steps(search, vertices)))
    return sorted(best.values(), key=_rank)


def _through_better(graph: AttackGraph, found: Candidate) -> bool:
    """True when the path passes a target of its kind at least as valuable as its end.

    The path to that one says it all (a namespace's Secrets reached through every Secret).
    """
    for step in found.steps[:-1]:
        vertex = graph.vertex(step.target)
        if vertex is not None and vertex.target == found.target_kind \
                and vertex.impact >= found.impact:
            return True
    return False


def _rank(found: Candidate) -> tuple[int, float, int, int, str]:
    return (SEVERITY_ORDER.index(found.severity), -found.score,
            ORIGIN_ORDER.index(found.origin_kind), len(found.steps), found.id)


def dominated(path: Candidate, other: Candidate) -> bool:
    """True when ``other`` makes ``path`` redundant.

    Same origin and target, fewer steps, and conditions (attack types and required findings)
    that are a subset of ``path``'s.
    """
    if (path.origin, path.target) != (other.origin, other.target) or \
            len(other.steps) >= len(path.steps):
        return False
    mine = {s.attack for s in path.steps} | {f for s in path.steps for f in s.requires}
    theirs = {s.attack for s in other.steps} | {f for s in other.steps for f in s.requires}
    return theirs <= mine


def select(candidates: list[Candidate], limit: int = MAX_PATHS
           ) -> tuple[list[Candidate], int]:
    """The paths a model keeps, and how many dominated ones were dropped.

    The best first; a route (target and hops after the first) already kept for another origin
    waits until every route has one path; at most ``limit`` paths.
    """
    by_pair: dict[tuple[str, str], list[Candidate]] = {}
    for item in candidates:
        by_pair.setdefault((item.origin, item.target), []).append(item)
    live: list[Candidate] = []
    dropped = 0
    for items in by_pair.values():
        for item in items:
            if any(dominated(item, other) for other in items if other is not item):
                dropped += 1
            else:
                live.append(item)
    live.sort(key=_rank)
    routes: set[tuple[object, ...]] = set()
    first: list[Candidate] = []
    later: list[Candidate] = []
    for item in live:
        route = (item.target, tuple((s.source, s.target, s.attack) for s in item.steps[1:]))
        (later if route in routes else first).append(item)
        routes.add(route)
    kept = (first + later)[:limit]
    return sorted(kept, key=_rank), dropped
