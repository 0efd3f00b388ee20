"""Drawings of attack paths as SVG: one path as a chain, or the paths of a model as a graph.

Every vertex is a box coloured by what it is (the internet, an entry point, a workload, a
node, the cluster, ...) with a thick border where a path ends; every hop is an arrow labelled
with its attack type and coloured by the most severe path that takes it. The graph lays the
vertices out in columns by how far from its origin a path first reaches them (networkx's
multipartite layout). Styles are inline attributes, so a drawing looks the same in the HTML
report and in the web UI; all text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from workflow.domain.attack_graph import AttackPath
from workflow.domain.threat_model import Severity, ThreatModel

__all__ = ["filter_paths", "graph_svg", "path_svg"]

_BOX_W, _BOX_H, _COL_W, _ROW_H, _PAD = 190, 46, 290, 70, 20
#: Fill and stroke of each kind of vertex.
_KINDS: dict[str, tuple[str, str]] = {
    "internet": ("#fde2e2", "#b42318"), "entry": ("#fff4e0", "#b54708"),
    "workload": ("#eff8ff", "#175cd3"), "container": ("#f5faff", "#528bff"),
    "volume": ("#f2f4f7", "#667085"), "serviceaccount": ("#fef7c3", "#a15c07"),
    "user": ("#fdf2fa", "#c11574"), "group": ("#fdf2fa", "#c11574"),
    "secrets": ("#fef6ee", "#b93815"), "namespace": ("#f4f3ff", "#5925dc"),
    "node": ("#fff6ed", "#c4320a"), "node-tokens": ("#fff6ed", "#c4320a"),
    "cloud": ("#ecfdf3", "#067647"), "cluster": ("#fef3f2", "#912018"),
}
_SEVERITY = {Severity.CRITICAL: "#7a271a", Severity.HIGH: "#b42318",
             Severity.MEDIUM: "#b54708", Severity.LOW: "#175cd3", Severity.INFO: "#667085"}
_ORDER = list(Severity)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _kind_of(vertex: str, kinds: dict[str, str]) -> str:
    if vertex in kinds:
        return kinds[vertex]
    if vertex == "internet":
        return "internet"
    if vertex == "cluster":
        return "cluster"
    head = vertex.split("/", 1)[0]
    return {"Node": "node", "ServiceAccount": "serviceaccount", "Secrets": "secrets",
            "CloudIdentity": "cloud", "Namespace": "namespace", "User": "user",
            "Group": "group", "Service": "entry", "Ingress": "entry",
            "Gateway": "entry"}.get(head, "container" if "#" in vertex else "workload")


def _lines(vertex: str) -> tuple[str, str]:
    """Two short lines for a box: the kind and the name."""
    if vertex in {"internet", "cluster"}:
        return ("", "the internet" if vertex == "internet" else "the cluster (admin)")
    head, _, rest = vertex.partition("/")
    name = rest.rsplit("/", 1)[-1] if "/" in rest else rest
    if head == "CloudIdentity":
        head, name = "Cloud identity", name.rsplit(":", 1)[-1]
    return head, name if len(name) <= 24 else name[:23] + "\u2026"


@dataclass(frozen=True)
class _Edge:
    source: str
    target: str
    attack: str
    severity: Severity
    condition: str


def _edges(paths: Iterable[AttackPath]) -> list[_Edge]:
    found: dict[tuple[str, str, str], _Edge] = {}
    for path in paths:
        for hop in path.hops:
            key = (hop.source, hop.to, hop.attack)
            known = found.get(key)
            if known is None or _ORDER.index(path.severity) < _ORDER.index(known.severity):
                found[key] = _Edge(hop.source, hop.to, hop.attack, path.severity, hop.condition)
    return list(found.values())


def _box(vertex: str, x: float, y: float, kind: str, target: bool) -> str:
    fill, stroke = _KINDS.get(kind, ("#ffffff", "#475467"))
    top, name = _lines(vertex)
    width = 3 if target else 1.2
    return (f'<g class="vertex" data-id="{_e(vertex)}"><title>{_e(vertex)}</title>'
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{_BOX_W}" height="{_BOX_H}" rx="8" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>'
            f'<text x="{x + 10:.0f}" y="{y + 17:.0f}" font-size="11" fill="{stroke}" '
            f'font-family="system-ui, sans-serif">{_e(top)}</text>'
            f'<text x="{x + 10:.0f}" y="{y + 35:.0f}" font-size="13" font-weight="600" '
            f'fill="#101828" font-family="system-ui, sans-serif">{_e(name)}</text></g>')


def _arrow(edge: _Edge, a: tuple[float, float], b: tuple[float, float]) -> str:
    colour = _SEVERITY[edge.severity]
    x1, y1 = a[0] + _BOX_W, a[1] + _BOX_H / 2
    x2, y2 = b[0], b[1] + _BOX_H / 2
    if x2 > x1:
        mid = (x1 + x2) / 2
        shape = f"M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
        lx, ly = mid, (y1 + y2) / 2 - 6
    elif a[0] == b[0]:  # the same column (a cycle): an arc on the right of the boxes
        bulge = x1 + 40 + abs(y2 - y1) / 4
        shape = f"M{x1:.0f},{y1:.0f} C{bulge:.0f},{y1:.0f} {bulge:.0f},{y2:.0f} {x1:.0f},{y2:.0f}"
        lx, ly = bulge - 10, (y1 + y2) / 2
    else:  # a step back to an earlier column: loop under the boxes
        low = max(y1, y2) + _ROW_H * 0.8
        shape = (f"M{a[0] + _BOX_W / 2:.0f},{a[1] + _BOX_H:.0f} C{a[0] + _BOX_W / 2:.0f},"
                 f"{low:.0f} {b[0] + _BOX_W / 2:.0f},{low:.0f} {b[0] + _BOX_W / 2:.0f},"
                 f"{b[1] + _BOX_H:.0f}")
        lx, ly = (a[0] + b[0] + _BOX_W) / 2, low - 4
    return (f'<g class="hop" data-attack="{_e(edge.attack)}"><title>{_e(edge.attack)}: '
            f"{_e(edge.condition)}</title>"
            f'<path d="{shape}" fill="none" stroke="{colour}" stroke-width="2" '
            f'marker-end="url(#arrow-{edge.severity.value})"/>'
            f'<text x="{lx:.0f}" y="{ly:.0f}" font-size="10" text-anchor="middle" '
            f'fill="{colour}" stroke="#ffffff" stroke-width="3" paint-order="stroke" '
            f'font-family="system-ui, sans-serif">{_e(edge.attack)}</text></g>')


def _svg(width: float, height: float, body: Sequence[str], label: str) -> str:
    markers = "".join(
        f'<marker id="arrow-{band.value}" viewBox="0 0 10 10" refX="9" refY="5" '
        f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        for band, colour in _SEVERITY.items())
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_e(label)}" '
            f'class="attack-drawing" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}"><defs>{markers}</defs>{"".join(body)}</svg>')


def _draw(paths: Sequence[AttackPath], kinds: dict[str, str], label: str) -> str:
    import networkx as nx  # the layout, loaded only when a drawing is made

    hops: nx.DiGraph[str] = nx.DiGraph()
    for path in paths:
        hops.add_node(path.origin)
        hops.add_edges_from((h.source, h.to) for h in path.hops)
    # Columns: longest-path layers of the hops' graph, a cycle's vertices in one column.
    condensed = nx.condensation(hops)
    layer: dict[str, int] = {}
    for depth, generation in enumerate(nx.topological_generations(condensed)):
        for component in generation:
            for vertex in condensed.nodes[component]["members"]:
                layer[vertex] = depth
    targets = {path.hops[-1].to for path in paths if path.hops}
    graph: nx.DiGraph[str] = nx.DiGraph()
    for vertex in sorted(layer, key=lambda v: (layer[v], _kind_of(v, kinds), v)):
        graph.add_node(vertex, layer=layer[vertex])
    positions = nx.multipartite_layout(graph, subset_key="layer", align="vertical")
    columns: dict[int, list[str]] = {}
    for vertex in graph.nodes:
        columns.setdefault(layer[vertex], []).append(vertex)
    place: dict[str, tuple[float, float]] = {}
    for col, members in columns.items():
        members.sort(key=lambda v: float(positions[v][1]))
        for row, vertex in enumerate(members):
            place[vertex] = (_PAD + col * _COL_W, _PAD + row * _ROW_H)
    width = _PAD * 2 + (max(columns, default=0)) * _COL_W + _BOX_W
    height = _PAD * 2 + max((len(m) for m in columns.values()), default=1) * _ROW_H + _ROW_H
    body = [_arrow(e, place[e.source], place[e.target]) for e in _edges(paths)
            if e.source in place and e.target in place]
    body += [_box(v, *place[v], _kind_of(v, kinds), v in targets) for v in graph.nodes]
    return _svg(width, height, body, label)


def path_svg(path: AttackPath, kinds: dict[str, str] | None = None) -> str:
    """One path as a chain of boxes, left to right."""
    return _draw([path], kinds or {}, f"Attack path {path.id}")


def filter_paths(model: ThreatModel, origin: str | None = None,
                 target: str | None = None) -> list[AttackPath]:
    """The model's paths from an origin (kind or vertex) to a target kind (None: any)."""
    return [p for p in model.attack_paths
            if (origin in (None, "", p.origin, p.origin_kind))
            and (target in (None, "", p.target.kind))]


def graph_svg(model: ThreatModel, origin: str | None = None, target: str | None = None) -> str:
    """The graph of the model's paths (filtered by origin and target) as one drawing."""
    kinds = {v.id: v.kind for v in model.attack_graph.vertices}
    chosen = filter_paths(model, origin, target)
    if not chosen:
        return _svg(420, 60, ['<text x="20" y="35" font-size="14" fill="#667085" '
                              'font-family="system-ui, sans-serif">No attack path matches.'
                              "</text>"], "No attack path")
    return _draw(chosen, kinds, f"Attack graph of {model.application.name}")
