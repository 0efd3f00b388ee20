"""Paths the model proposes, kept only as chains of the graph's own vertices and steps.

A proposal names vertices (origin first, target last) and the attack type of each step. Each
step must be a live step of the graph between those two vertices with that attack type, or go
there through shared network or scope vertices (as a path's hop does); the origin must be an
origin and the last vertex a target. Anything else is dropped and counted by reason, never
repaired.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx

from agents.attack_graph.graph import COLLAPSED, AttackGraph, Step
from agents.attack_graph.paths import ORIGIN_OF, Candidate, candidate

__all__ = ["check_proposals"]


def _hop(graph: AttackGraph, search: nx.DiGraph[str], source: str, target: str,
         attack: str) -> tuple[Step, ...] | None:
    """The steps of one proposed hop, or None when the graph has no such hop."""
    for step in graph.steps_between(source, target):
        if step.attack.value == attack and not step.blocked:
            return (step,)
    hubs = [v.id for v in graph.vertices() if v.kind in COLLAPSED]
    for middle in search.successors(source):
        step = search[source][middle]["step"]
        if middle not in hubs or step.attack.value != attack:
            continue
        inner = search.subgraph([*hubs, target])
        if nx.has_path(inner, middle, target):
            chain = nx.shortest_path(inner, middle, target, weight="weight")
            return (step, *(search[u][v]["step"] for u, v in itertools.pairwise(chain)))
    return None


def check_proposals(graph: AttackGraph, proposals: Iterable[Mapping[str, Any]],
                    known: Iterable[Candidate]) -> tuple[list[Candidate], Counter[str]]:
    """The proposals the graph holds, as candidates, and the others counted by reason."""
    search = graph.search_graph()
    seen = {tuple(c.steps) for c in known}
    kept: list[Candidate] = []
    drops: Counter[str] = Counter()
    for raw in proposals:
        vertices = [str(v) for v in raw.get("vertices") or []]
        attacks = [str(a) for a in raw.get("attacks") or []]
        if len(vertices) < 2 or len(attacks) != len(vertices) - 1:
            drops["invalid"] += 1
            continue
        if any(v not in graph for v in vertices):
            drops["unknown_vertex"] += 1
            continue
        origin = graph.vertex(vertices[0])
        kind = ORIGIN_OF.get(origin.kind) if origin is not None else None
        if kind is None:
            drops["not_an_origin"] += 1
            continue
        steps: list[Step] = []
        for (source, target), attack in zip(itertools.pairwise(vertices), attacks, strict=True):
            hop = _hop(graph, search, source, target, attack)
            if hop is None:
                steps = []
                break
            steps.extend(hop)
        if not steps:
            drops["unknown_step"] += 1
            continue
        found = candidate(graph, vertices[0], kind, tuple(steps), source="model")
        if found is None:
            drops["not_a_target"] += 1
        elif tuple(found.steps) in seen:
            drops["duplicate"] += 1
        else:
            seen.add(tuple(found.steps))
            kept.append(found)
    return kept, drops
