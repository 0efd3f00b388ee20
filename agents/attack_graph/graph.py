"""The attack graph: vertices and attack steps in a networkx multigraph.

Two vertices may be joined by several steps (a privileged container escapes by mounting the
host's disk and by loading a module); each step keeps its attack type, likelihood, condition,
evidence and the findings it requires. :meth:`AttackGraph.search_graph` collapses them into a
weighted simple graph for the path search: the most likely live step between two vertices,
weighted by ``-log(likelihood / 5)`` so that the shortest path is the most likely one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import networkx as nx

from agents.attack_graph.kinds import AttackType, VertexKind
from workflow.domain.attack_graph import AttackGraph as GraphModel
from workflow.domain.attack_graph import GraphEdge, GraphVertex, TargetKind

__all__ = ["COLLAPSED", "AttackGraph", "Step", "Vertex", "weight"]

#: Vertex kinds a path passes through without showing them as a hop of their own.
COLLAPSED = frozenset({VertexKind.NETWORK, VertexKind.SCOPE})


def weight(likelihood: int) -> float:
    """The search weight of a step: ``-log`` of its probability (likelihood / 5)."""
    return -math.log(max(1, min(5, likelihood)) / 5)


@dataclass(frozen=True, slots=True)
class Vertex:
    """A vertex: its id, kind, label; a target kind and impact where a path may end."""

    id: str
    kind: VertexKind
    label: str = ""
    namespace: str | None = None
    target: TargetKind | None = None
    impact: int = 0


@dataclass(frozen=True, slots=True)
class Step:
    """An attack step (an edge).

    Attributes:
        source: the vertex it starts from; ``target`` the vertex it reaches.
        attack: its type; ``likelihood`` on the 1-5 scale (after any weakening control).
        condition: what enables it, for a reviewer.
        findings: the findings that evidence it; ``requires`` those without which it does
            not exist (a step whose required finding was removed or closed is not built, and
            a what-if drops the steps that require a finding it fixes).
        controls: positive controls that weaken it; ``blocked`` the enforcing control that
            stops it (a blocked step is kept for the record but on no path).
    """

    source: str
    target: str
    attack: AttackType
    likelihood: int
    condition: str = ""
    findings: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    controls: tuple[str, ...] = ()
    blocked: str = ""


@dataclass
class AttackGraph:
    """Vertices and steps, with the most likely live step between two vertices on demand."""

    graph: nx.MultiDiGraph[str] = field(default_factory=nx.MultiDiGraph)
    _keys: int = 0

    def add_vertex(self, vertex: Vertex) -> None:
        """Add a vertex (a second add of the same id keeps the first)."""
        if vertex.id not in self.graph:
            self.graph.add_node(vertex.id, v=vertex)

    def add_step(self, step: Step) -> None:
        """Add a step between two known vertices.

        Keys are numbered here: networkx would search for a free key on every edge.
        """
        self._keys += 1
        self.graph.add_edge(step.source, step.target, key=self._keys, s=step)

    def vertex(self, vertex_id: str) -> Vertex | None:
        """The vertex with that id, or None."""
        data = self.graph.nodes.get(vertex_id)
        return data["v"] if data is not None else None

    def __contains__(self, vertex_id: object) -> bool:
        return vertex_id in self.graph

    def vertices(self) -> Iterator[Vertex]:
        """Every vertex, in insertion order."""
        for _, data in self.graph.nodes(data=True):
            yield data["v"]

    def steps(self) -> Iterator[Step]:
        """Every step, in insertion order."""
        for _, _, data in self.graph.edges(data=True):
            yield data["s"]

    def steps_between(self, source: str, target: str) -> list[Step]:
        """The steps from ``source`` to ``target``."""
        found = self.graph.get_edge_data(source, target) or {}
        return [data["s"] for data in found.values()]

    def search_graph(self, without: Iterable[str] = ()) -> nx.DiGraph[str]:
        """The weighted digraph the path search runs on.

        It holds the live steps (not blocked, requiring none of ``without``): between two
        vertices the most likely one, as the edge attribute ``step``.
        """
        fixed = frozenset(without)
        out: nx.DiGraph[str] = nx.DiGraph()
        out.add_nodes_from(self.graph.nodes)
        for source, target, data in self.graph.edges(data=True):
            step: Step = data["s"]
            if step.blocked or (fixed and fixed.intersection(step.requires)):
                continue
            known = out.get_edge_data(source, target)
            if known is None or _better(step, known["step"]):
                out.add_edge(source, target, step=step, weight=weight(step.likelihood))
        return out

    # ---- the threat model's form --------------------------------------------------------
    def to_model(self) -> GraphModel:
        """The graph as the threat model carries it."""
        # Built from typed objects of this module: construct without validating each one again
        # (a large cluster has tens of thousands of steps).
        vertices = tuple(GraphVertex.model_construct(
            id=v.id, kind=v.kind.value, label=v.label, namespace=v.namespace, target=v.target,
            impact=v.impact) for v in self.vertices())
        edges = tuple(GraphEdge.model_construct(
            source=s.source, to=s.target, attack=s.attack.value, likelihood=s.likelihood,
            condition=s.condition, findings=s.findings, requires=s.requires,
            controls=s.controls, blocked=s.blocked) for s in self.steps())
        return GraphModel(vertices=vertices, edges=edges)

    @classmethod
    def from_model(cls, model: GraphModel) -> AttackGraph:
        """The graph a threat model carries, ready for the path search again."""
        built = cls()
        for v in model.vertices:
            built.add_vertex(Vertex(v.id, VertexKind(v.kind), v.label, v.namespace, v.target,
                                    v.impact))
        for e in model.edges:
            built.add_step(Step(e.source, e.to, AttackType(e.attack), e.likelihood,
                                e.condition, e.findings, e.requires, e.controls, e.blocked))
        return built


def _better(step: Step, other: Step) -> bool:
    """The more likely step; on a tie, the one that requires fewer findings, then by type."""
    return (-step.likelihood, len(step.requires), step.attack.value) < (
        -other.likelihood, len(other.requires), other.attack.value)
