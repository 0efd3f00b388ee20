"""The attack graph of a model as data: JSON (nodes, edges, attack types) and GraphML.

Both carry every vertex and step the model's graph holds, with the paths that take each step
counted, so a graph tool (Gephi, yEd, networkx, Neo4j's GraphML import) can load the run's
attack graph as it is.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from typing import Any

from workflow.domain.threat_model import ThreatModel

__all__ = ["graph_json", "graphml"]


def _on_paths(model: ThreatModel) -> Counter[tuple[str, str]]:
    return Counter((hop.source, hop.to) for path in model.attack_paths for hop in path.hops)


def graph_document(model: ThreatModel) -> dict[str, Any]:
    """The graph as a JSON-ready dict: nodes, edges and the attack types it uses."""
    graph = model.attack_graph
    used = _on_paths(model)
    types = Counter(e.attack for e in graph.edges)
    return {
        "run_id": model.run_id, "application": model.application.name,
        "schema_version": model.schema_version,
        "nodes": [v.model_dump(mode="json") for v in graph.vertices],
        "edges": [{**e.model_dump(mode="json", by_alias=True),
                   "paths": used.get((e.source, e.to), 0)} for e in graph.edges],
        "attack_types": dict(sorted(types.items())),
        "summary": graph.summary.model_dump(mode="json"),
        "choke_points": [c.model_dump(mode="json") for c in graph.choke_points],
    }


def graph_json(model: ThreatModel) -> str:
    """The graph as indented JSON."""
    return json.dumps(graph_document(model), indent=2, ensure_ascii=False) + "\n"


def graphml(model: ThreatModel) -> str:
    """The graph as GraphML (networkx's writer: one key per attribute, lists joined)."""
    import networkx as nx  # the graph library loads only for this export

    out: nx.MultiDiGraph[str] = nx.MultiDiGraph(name=f"ktmb attack graph {model.run_id}")
    for v in model.attack_graph.vertices:
        out.add_node(v.id, kind=v.kind, label=v.label or v.id, namespace=v.namespace or "",
                     target=v.target or "", impact=v.impact)
    used = _on_paths(model)
    for e in model.attack_graph.edges:
        out.add_edge(e.source, e.to, attack=e.attack, likelihood=e.likelihood,
                     condition=e.condition, findings=" ".join(e.findings),
                     requires=" ".join(e.requires), controls="; ".join(e.controls),
                     blocked=e.blocked, paths=used.get((e.source, e.to), 0))
    buffer = io.BytesIO()
    nx.write_graphml(out, buffer, encoding="utf-8", prettyprint=True)
    return buffer.getvalue().decode("utf-8")
