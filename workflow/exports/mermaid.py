"""Mermaid flowcharts of the architecture and of the attack paths.

Every name in a diagram comes from a manifest, so it is treated as hostile: node ids are
derived (a readable slug plus a short digest, so two names never collide and no name can be a
Mermaid keyword), and labels are always quoted with every character outside a small safe set
written as a Mermaid entity code (``#35;``). A label can therefore neither end its quotes,
open a link or a click handler, inject HTML, nor break out of a Markdown code fence.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass

from workflow.domain.threat_model import ArchitectureView, AttackPath, ThreatModel
from workflow.exports._common import kind_of, name_of, namespace_of, path_chain, path_target

__all__ = [
    "INTERNET",
    "Edge",
    "Graph",
    "Node",
    "architecture",
    "attack_paths",
    "graph_of",
    "label",
    "node_id",
    "render",
]

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.,/:@=+()")
_SLUG = re.compile(r"[^A-Za-z0-9]+")
INTERNET = "internet"
_MAX_LABEL = 120


def node_id(ref: str, prefix: str = "n") -> str:
    """A Mermaid node id for any reference: ``<prefix>_<slug>_<digest>``, letters, digits, _."""
    slug = _SLUG.sub("_", ref).strip("_")[:40]
    digest = hashlib.sha256(ref.encode()).hexdigest()[:8]
    return f"{prefix}_{slug}_{digest}" if slug else f"{prefix}_{digest}"


def label(text: str) -> str:
    """A quoted Mermaid label that shows ``text`` literally, whatever characters it holds."""
    flat = " ".join(text.split())
    if len(flat) > _MAX_LABEL:
        flat = flat[: _MAX_LABEL - 1] + "\u2026"
    return '"' + "".join(ch if ch in _SAFE else f"#{ord(ch)};" for ch in flat) + '"'


def architecture(view: ArchitectureView, *, direction: str = "LR") -> str:
    """A flowchart: the internet, entry points, components in namespace subgraphs, flows.

    The cluster is a subgraph holding one subgraph per namespace (the trust boundaries);
    cluster-scoped nodes sit in the cluster itself. Any flow endpoint that is neither a
    component nor an entry point (a Service, for example) still gets a node, in its namespace.

    Args:
        view: the architecture the architecture phase reconstructed.
        direction: Mermaid flowchart direction (``LR`` or ``TB``).

    Returns:
        The Mermaid source, ending with a newline.
    """
    graph = graph_of(view)
    internet = node_id(INTERNET, "z")
    lines = [f"flowchart {direction}", f"  {internet}(({label('Internet')}))"]
    lines.append(f"  subgraph {node_id('cluster', 'tb')}[{label('Cluster')}]")
    for node in graph.groups.get(None, []):
        lines.append(f"    {_node(node)}")
    for ns in sorted(n for n in graph.groups if n is not None):
        lines.append(f"    subgraph {node_id('namespace/' + ns, 'tb')}[{label('namespace ' + ns)}]")
        lines.extend(f"      {_node(node)}" for node in graph.groups[ns])
        lines.append("    end")
    lines.append("  end")
    for edge in graph.edges:
        src = internet if edge.source == INTERNET else node_id(edge.source)
        dst = internet if edge.target == INTERNET else node_id(edge.target)
        lines.append(f"  {src} -->|{label(edge.text)}| {dst}")
    lines.append("  classDef internet fill:#fde2e2,stroke:#b42318;")
    lines.append("  classDef entry fill:#fff4e0,stroke:#b54708;")
    lines.append(f"  class {internet} internet;")
    entries = [node_id(node.ref) for nodes in graph.groups.values() for node in nodes
               if node.entry]
    if entries:
        lines.append(f"  class {','.join(entries)} entry;")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Node:
    """A node of the architecture graph (any node but the internet)."""

    ref: str
    text: str
    entry: bool = False


@dataclass(frozen=True)
class Edge:
    """A directed, labelled edge of the architecture graph."""

    source: str
    target: str
    text: str


@dataclass(frozen=True)
class Graph:
    """The architecture as nodes grouped by namespace (None: cluster-scoped) and edges."""

    groups: dict[str | None, list[Node]]
    edges: list[Edge]


def graph_of(view: ArchitectureView) -> Graph:
    """The architecture view as a graph both the Mermaid and the SVG renderers draw."""
    nodes: dict[str, Node] = {}
    for comp in view.components:
        nodes.setdefault(comp.id, Node(comp.id, f"{comp.kind} {comp.name}"))
    for entry in view.entry_points:
        nodes.setdefault(entry.id, Node(
            entry.id, f"{entry.kind} {name_of(entry.id)} ({entry.exposure})", entry=True))
    edges: dict[tuple[str, str, str], Edge] = {}
    for entry in view.entry_points:
        if entry.exposure == "internet":
            edges.setdefault((INTERNET, entry.id, "exposes"), Edge(INTERNET, entry.id, "exposes"))
        for target in entry.targets:
            edges.setdefault((entry.id, target, "routes to"), Edge(entry.id, target, "routes to"))
    for flow in view.data_flows:
        text = f"{flow.kind}: {flow.detail}" if flow.detail else flow.kind
        edges.setdefault((flow.source, flow.target, text), Edge(flow.source, flow.target, text))
    for edge in edges.values():
        for ref in (edge.source, edge.target):
            if ref != INTERNET and ref not in nodes:
                nodes[ref] = Node(ref, f"{kind_of(ref)} {name_of(ref)}")
    boundary_of: dict[str, str] = {}
    groups: dict[str | None, list[Node]] = {}
    for boundary in view.trust_boundaries:
        if boundary.kind == "namespace":
            groups.setdefault(boundary.name, [])
            for member in boundary.members:
                boundary_of.setdefault(member, boundary.name)
    for node in nodes.values():
        groups.setdefault(boundary_of.get(node.ref, namespace_of(node.ref)), []).append(node)
    return Graph(groups=groups, edges=list(edges.values()))


def _node(node: Node) -> str:
    if node.entry:
        return f"{node_id(node.ref)}([{label(node.text)}])"
    return f"{node_id(node.ref)}[{label(node.text)}]"


def attack_paths(paths: tuple[AttackPath, ...], *, direction: str = "LR") -> str:
    """A flowchart with one subgraph per attack path: its steps chained, its target last.

    Args:
        paths: the attack paths of a model.
        direction: Mermaid flowchart direction.

    Returns:
        The Mermaid source, ending with a newline; a single explanatory node when empty.
    """
    lines = [f"flowchart {direction}"]
    if not paths:
        lines.append(f"  {node_id('none', 'ap')}[{label('No attack paths in this model')}]")
        return "\n".join(lines) + "\n"
    lines.extend(_attack_path_lines(paths))
    return "\n".join(lines) + "\n"


def _attack_path_lines(paths: tuple[AttackPath, ...]) -> list[str]:
    lines: list[str] = []
    for index, path in enumerate(paths):
        prefix = f"ap{index}"
        title = f"{path.severity.value} {path.score}: {path.origin} to {path_target(path)}"
        lines.append(f"  subgraph {node_id(path.id, prefix + 'g')}[{label(title)}]")
        steps = path_chain(path)
        ids = [node_id(f"{i}:{step}", prefix) for i, step in enumerate(steps)]
        for i, (nid, step) in enumerate(zip(ids, steps, strict=True)):
            last = i == len(steps) - 1
            lines.append(f"    {nid}{{{{{label(step)}}}}}" if last else f"    {nid}[{label(step)}]")
        lines.extend(f"    {a} -->|{label(hop.attack)}| {b}"
                     for (a, b), hop in zip(itertools.pairwise(ids), path.hops, strict=True))
        lines.append("  end")
    return lines


def render(model: ThreatModel) -> str:
    """One Mermaid document: the architecture flowchart, with the attack paths as subgraphs.

    A Mermaid file holds a single diagram, so the attack paths are drawn as extra subgraphs of
    the architecture flowchart (their nodes are separate from the architecture's). Reports
    render them as two diagrams through :func:`architecture` and :func:`attack_paths`.
    """
    text = architecture(model.architecture)
    if not model.attack_paths:
        return text
    return text + "\n".join(_attack_path_lines(model.attack_paths)) + "\n"
