"""The attack graph exports: JSON (nodes, edges, attack types) and GraphML."""

from __future__ import annotations

import io
import json

import networkx as nx

from workflow.domain.attack_graph import AttackGraph, GraphEdge, GraphVertex
from workflow.domain.threat_model import ThreatModel
from workflow.exports import FORMATS, SUFFIXES, export


def _with_graph(model: ThreatModel) -> ThreatModel:
    graph = AttackGraph(
        vertices=(GraphVertex(id="internet", kind="internet"),
                  GraphVertex(id="Ingress/shop/web", kind="entry"),
                  GraphVertex(id="Deployment/shop/web", kind="workload", namespace="shop"),
                  GraphVertex(id="ServiceAccount/shop/web", kind="serviceaccount"),
                  GraphVertex(id="cluster", kind="cluster", target="cluster", impact=5)),
        edges=tuple(GraphEdge.model_validate(e) for e in (
            {"from": "internet", "to": "Ingress/shop/web", "attack": "ROUTE", "likelihood": 5},
            {"from": "Ingress/shop/web", "to": "Deployment/shop/web",
             "attack": "ENDPOINT_EXPLOIT"},
            {"from": "Deployment/shop/web", "to": "ServiceAccount/shop/web",
             "attack": "TOKEN_STEAL", "likelihood": 5, "requires": ["a@b"], "findings": ["a@b"]},
            {"from": "ServiceAccount/shop/web", "to": "cluster", "attack": "RBAC_ADMIN",
             "likelihood": 5},
            {"from": "Deployment/shop/web", "to": "cluster", "attack": "POD_CREATE",
             "blocked": "PSA enforce"})))
    return model.model_copy(update={"attack_graph": graph})


def test_graph_json_lists_nodes_edges_and_attack_types(model: ThreatModel) -> None:
    """Every vertex and step, the attack types counted, the steps the paths take counted."""
    doc = json.loads(export(_with_graph(model), "graph-json"))
    assert 5 == len(doc["nodes"]) and 5 == len(doc["edges"])
    assert {"ENDPOINT_EXPLOIT": 1, "POD_CREATE": 1, "RBAC_ADMIN": 1, "ROUTE": 1,
            "TOKEN_STEAL": 1} == doc["attack_types"]
    by_pair = {(e["from"], e["to"]): e for e in doc["edges"]}
    assert 1 == by_pair[("ServiceAccount/shop/web", "cluster")]["paths"]
    assert "PSA enforce" == by_pair[("Deployment/shop/web", "cluster")]["blocked"]


def test_graphml_reads_back_into_networkx(model: ThreatModel) -> None:
    """The GraphML parses with networkx and keeps vertices, steps and their attributes."""
    text = export(_with_graph(model), "graphml")
    graph = nx.read_graphml(io.BytesIO(text.encode("utf-8")))
    assert 5 == graph.number_of_nodes() and 5 == graph.number_of_edges()
    assert "cluster" == graph.nodes["cluster"]["target"]
    attacks = sorted(d["attack"] for _, _, d in graph.edges(data=True))
    assert ["ENDPOINT_EXPLOIT", "POD_CREATE", "RBAC_ADMIN", "ROUTE", "TOKEN_STEAL"] == attacks


def test_graph_formats_are_listed() -> None:
    """Both formats are export formats with their own suffix."""
    assert {"graph-json", "graphml"} <= set(FORMATS)
    assert (".graph.json", ".graphml") == (SUFFIXES["graph-json"], SUFFIXES["graphml"])
