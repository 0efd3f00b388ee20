"""The attack graph of a run's facts and the findings they may chain."""

from __future__ import annotations

from agents.attack_graph.build_network import add_entries, add_lateral
from agents.attack_graph.build_pods import add_pods
from agents.attack_graph.build_rbac import add_rbac
from agents.attack_graph.evidence import Evidence
from agents.attack_graph.graph import AttackGraph, Vertex
from agents.attack_graph.kinds import VertexKind
from agents.facts.derived import Facts

__all__ = ["CLUSTER", "INTERNET", "build_graph"]

INTERNET = "internet"
CLUSTER = "cluster"


def build_graph(facts: Facts) -> AttackGraph:
    """The graph of the inventory, its steps evidenced by the open findings of ``facts``.

    A step that requires a finding is built only while that finding is open: a finding removed
    at a gate, or closed by a reviewer, takes its steps with it.
    """
    graph = AttackGraph()
    evidence = Evidence(facts.findings)
    graph.add_vertex(Vertex(INTERNET, VertexKind.INTERNET, "the internet"))
    graph.add_vertex(Vertex(CLUSTER, VertexKind.CLUSTER, "control of the cluster",
                            target="cluster", impact=5))
    add_pods(facts, graph, evidence)
    add_rbac(facts, graph, evidence)
    add_entries(facts, graph, evidence)
    add_lateral(facts, graph, evidence)
    return graph
