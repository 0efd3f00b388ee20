"""The architecture view: components, entry points, trust boundaries, data flows, diagram."""

from __future__ import annotations

from workflow.inventory import Inventory
from workflow.threat_model import (
    ArchitectureView,
    Component,
    DataFlow,
    EntryPoint,
    TrustBoundary,
)

__all__ = ["build_architecture"]


def build_architecture(inv: Inventory) -> ArchitectureView:
    """Reconstruct the application's architecture from its inventory."""
    components = tuple(
        Component(id=wl.id, kind=wl.kind, name=wl.name, namespace=wl.namespace,
                  images=tuple(c.image for c in wl.pod.containers))
        for wl in inv.workloads if wl.kind != "PodTemplate")
    entries: list[EntryPoint] = []
    flows: list[DataFlow] = []
    for svc in inv.services:
        if svc.externally_exposed:
            exposure = "internet" if svc.type == "LoadBalancer" or svc.external_ips else "node"
            entries.append(EntryPoint(
                id=svc.id, kind=f"Service/{svc.type}", exposure=exposure, via=svc.id,
                targets=svc.targets,
                ports=tuple(str(p.get("port", "")) for p in svc.ports)))
            flows.extend(DataFlow(source="internet", target=t, kind="ingress", detail=svc.id)
                         for t in svc.targets)
        else:
            flows.extend(DataFlow(source=svc.id, target=t, kind="service", detail=svc.type)
                         for t in svc.targets)
    services = {svc.id: svc for svc in inv.services}
    for ing in inv.ingresses:
        targets = tuple(t for b in ing.backends if b.service in services
                        for t in services[b.service].targets)
        entries.append(EntryPoint(id=ing.id, kind="Ingress", exposure="internet", via=ing.id,
                                  targets=targets, tls=ing.has_tls))
        flows.extend(DataFlow(source="internet", target=t, kind="ingress", detail=ing.id)
                     for t in targets)
    for wl in inv.workloads:
        if wl.pod.flag("hostNetwork"):
            entries.append(EntryPoint(id=f"{wl.id}#hostNetwork", kind="hostNetwork",
                                      exposure="node", via=wl.id, targets=(wl.id,)))
        for container in wl.pod.containers:
            for port in container.ports:
                if port.get("hostPort"):
                    entries.append(EntryPoint(
                        id=f"{wl.id}#hostPort-{port.get('hostPort')}", kind="hostPort",
                        exposure="node", via=wl.id, targets=(wl.id,),
                        ports=(str(port.get("hostPort")),)))
    boundaries = [TrustBoundary(id="internet", kind="internet", name="Internet"),
                  TrustBoundary(id="cluster", kind="cluster", name="Cluster",
                                members=tuple(c.id for c in components))]
    for ns in inv.namespaces:
        members = tuple(c.id for c in components if c.namespace == ns)
        boundaries.append(TrustBoundary(id=f"namespace/{ns}", kind="namespace", name=ns,
                                        members=members))
    view = ArchitectureView(components=components, entry_points=tuple(entries),
                            trust_boundaries=tuple(boundaries), data_flows=tuple(flows))
    return view.model_copy(update={"diagram": mermaid(view)})


def _node(ref: str) -> str:
    return "n_" + "".join(ch if ch.isalnum() else "_" for ch in ref)


def _label(text: str) -> str:
    return text.replace('"', "'").replace("<", "&lt;").replace(">", "&gt;")


def mermaid(view: ArchitectureView) -> str:
    """A Mermaid flowchart of the architecture."""
    lines = ["flowchart LR", '  internet(("Internet"))']
    by_ns: dict[str | None, list[str]] = {}
    for comp in view.components:
        by_ns.setdefault(comp.namespace, []).append(
            f'    {_node(comp.id)}["{_label(comp.kind + " " + comp.name)}"]')
    for ns, nodes in sorted(by_ns.items(), key=lambda kv: kv[0] or ""):
        group = _node("ns/" + (ns or "cluster"))
        lines.append(f'  subgraph {group}["namespace {_label(ns or "")}"]')
        lines.extend(nodes)
        lines.append("  end")
    known = {c.id for c in view.components}
    for flow in view.data_flows:
        if flow.target not in known:
            continue
        source = "internet" if flow.source == "internet" else _node(flow.source)
        if flow.source != "internet" and flow.source not in known:
            lines.append(f'  {source}["{_label(flow.source)}"]')
        lines.append(f"  {source} -->|{_label(flow.kind)}| {_node(flow.target)}")
    return "\n".join(dict.fromkeys(lines)) + "\n"
