"""The architecture view: components, entry points, trust boundaries, data flows, diagram.

Everything is reconstructed from the inventory:

- **components** are the workloads, with a role (data store kind, admin interface, node agent,
  batch job or service);
- **entry points** are public and internal LoadBalancers, NodePorts, external IPs, Ingresses,
  Istio and Gateway API gateways, host ports and host networking;
- **trust boundaries** are the internet, the cluster, each namespace, and the node (the
  workloads that share the host's namespaces or file system);
- **data flows** follow Service selectors, Ingress and gateway routes, and references to other
  Services by DNS name in env values, arguments and the ConfigMaps a workload reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import admin_interface, data_store, hostpath_volumes
from workflow.domain.inventory import Inventory
from workflow.domain.resources import Service, Workload
from workflow.domain.threat_model import (
    ArchitectureView,
    Component,
    DataFlow,
    EntryPoint,
    TrustBoundary,
)

__all__ = ["build_architecture", "mermaid", "service_references"]

_HOST = re.compile(r"(?<![\w.-])([a-z0-9]([-a-z0-9]*[a-z0-9])?)"
                   r"(\.([a-z0-9]([-a-z0-9]*[a-z0-9])?))?(\.svc(\.cluster\.local)?)?(:\d+)?"
                   r"(?![\w-])")


def _role(wl: Workload) -> str:
    store = data_store(wl)
    if store:
        return store
    if admin_interface(wl):
        return "admin interface"
    if wl.kind == "DaemonSet":
        return "node agent"
    if wl.kind in {"Job", "CronJob"}:
        return "batch job"
    return "service"


def _config_maps(wl: Workload) -> set[str]:
    """Names of the ConfigMaps a workload reads (env, envFrom, volumes)."""
    maps: set[str] = set()
    for container in wl.pod.containers:
        for entry in container.env:
            ref = (entry.get("valueFrom") or {}).get("configMapKeyRef")
            if isinstance(ref, dict) and ref.get("name"):
                maps.add(str(ref["name"]))
        for entry in container.raw.get("envFrom") or []:
            ref = entry.get("configMapRef") if isinstance(entry, dict) else None
            if isinstance(ref, dict) and ref.get("name"):
                maps.add(str(ref["name"]))
    for volume in wl.pod.volumes:
        ref = volume.get("configMap")
        if isinstance(ref, dict) and ref.get("name"):
            maps.add(str(ref["name"]))
    return maps


def _texts(inv: Inventory, wl: Workload) -> Iterator[str]:
    """Env values, args and commands of a workload, and the ConfigMaps it reads."""
    for container in wl.pod.containers:
        for entry in container.env:
            if isinstance(entry.get("value"), str):
                yield entry["value"]
        for field in ("args", "command"):
            for item in container.raw.get(field) or []:
                if isinstance(item, str):
                    yield item
    for name in sorted(_config_maps(wl)):
        res = inv.get(f"ConfigMap/{wl.namespace}/{name}")
        data = res.raw.get("data") if res is not None else None
        for value in (data or {}).values() if isinstance(data, dict) else ():
            if isinstance(value, str):
                yield value


def service_references(inv: Inventory, wl: Workload) -> list[str]:
    """Service ids a workload names by DNS name (``svc``, ``svc.ns``, ``svc.ns.svc...``)."""
    found: dict[str, None] = {}
    for text in _texts(inv, wl):
        if len(text) > 20_000:
            text = text[:20_000]
        for match in _HOST.finditer(text.lower()):
            name, ns = match.group(1), match.group(4)
            qualified = match.group(3) is not None
            candidates = [f"Service/{ns}/{name}"] if qualified and ns else []
            candidates.append(f"Service/{wl.namespace}/{name}")
            for cand in candidates:
                if cand in inv:  # a "Service/..." id is in the inventory only as a Service
                    found.setdefault(cand, None)
                    break
    return list(found)


def _entry_points(facts: Facts, services: dict[str, Service]) -> list[EntryPoint]:
    inv = facts.inventory
    entries: list[EntryPoint] = []
    by_entry: dict[str, list[str]] = {}
    kinds: dict[str, tuple[str, bool]] = {}
    for wl_id, ways in sorted(facts.exposures.items()):
        for way in ways:
            by_entry.setdefault(way.entry, []).append(wl_id)
            kinds.setdefault(way.entry, (way.kind, way.internet))
    for entry_id, targets in sorted(by_entry.items()):
        kind, internet = kinds[entry_id]
        if kind in {"hostPort", "hostNetwork"}:
            continue
        svc = services.get(entry_id)
        ports = tuple(str(p.get("nodePort") or p.get("port", "")) for p in svc.ports) \
            if svc is not None else ()
        tls: bool | None = None
        if kind == "Ingress":
            tls = next((i.has_tls for i in inv.ingresses if i.id == entry_id), None)
        label = f"Service/{kind}" if svc is not None else kind
        exposure = "internet" if internet else "node" if kind == "NodePort" else "cluster"
        entries.append(EntryPoint(id=entry_id, kind=label, exposure=exposure, via=entry_id,
                                  targets=tuple(sorted(set(targets))), ports=ports, tls=tls))
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
    return entries


def _on_node(wl: Workload) -> bool:
    if any(wl.pod.flag(f) for f in ("hostNetwork", "hostPID", "hostIPC")):
        return True
    if any(c.security_context.get("privileged") is True for c in wl.pod.containers):
        return True
    return any(True for _ in hostpath_volumes(wl))


def build_architecture(facts: Facts) -> ArchitectureView:
    """Reconstruct the application's architecture from its inventory."""
    inv = facts.inventory
    workloads = [wl for wl in inv.workloads if wl.kind != "PodTemplate"]
    components = tuple(
        Component(id=wl.id, kind=wl.kind, name=wl.name, namespace=wl.namespace,
                  images=tuple(c.image for c in wl.pod.containers), role=_role(wl))
        for wl in workloads)
    services = {svc.id: svc for svc in inv.services}
    entries = _entry_points(facts, services)
    flows: list[DataFlow] = []
    for entry in entries:
        if entry.exposure == "internet" or entry.kind.endswith("NodePort"):
            flows.extend(DataFlow(source="internet", target=t, kind="ingress", detail=entry.id)
                         for t in entry.targets)
    for svc in inv.services:
        flows.extend(DataFlow(source=svc.id, target=t, kind="service", detail=svc.type)
                     for t in svc.targets)
    for wl in workloads:
        for svc_id in service_references(inv, wl):
            for target in services[svc_id].targets:
                if target != wl.id:
                    flows.append(DataFlow(source=wl.id, target=target, kind="calls",
                                          detail=svc_id))
    boundaries = [TrustBoundary(id="internet", kind="internet", name="Internet",
                                members=tuple(sorted({e.id for e in entries
                                                      if e.exposure == "internet"}))),
                  TrustBoundary(id="cluster", kind="cluster", name="Cluster",
                                members=tuple(c.id for c in components))]
    for ns in inv.namespaces:
        members = tuple(c.id for c in components if c.namespace == ns)
        if members or f"Namespace/{ns}" in inv:
            boundaries.append(TrustBoundary(id=f"namespace/{ns}", kind="namespace", name=ns,
                                            members=members))
    node_members = tuple(wl.id for wl in workloads if _on_node(wl))
    boundaries.append(TrustBoundary(id="node", kind="node", name="Node (host access)",
                                    members=node_members))
    view = ArchitectureView(components=components, entry_points=tuple(entries),
                            trust_boundaries=tuple(boundaries),
                            data_flows=tuple(dict.fromkeys(flows)))
    return view.model_copy(update={"diagram": mermaid(view)})


def _node(ref: str) -> str:
    return "n_" + "".join(ch if ch.isalnum() else "_" for ch in ref)


def _label(text: str) -> str:
    return text.replace('"', "'").replace("<", "&lt;").replace(">", "&gt;")


def mermaid(view: ArchitectureView) -> str:
    """A Mermaid flowchart of the architecture: namespaces as subgraphs, entry points, flows."""
    lines = ["flowchart LR", '  internet(("Internet"))']
    by_ns: dict[str | None, list[str]] = {}
    for comp in view.components:
        shape = ('[("{}")]' if comp.role in {"database", "cache", "queue", "search",
                                               "object store"} else '["{}"]')
        by_ns.setdefault(comp.namespace, []).append(
            f"    {_node(comp.id)}" + shape.format(_label(f"{comp.kind} {comp.name}")))
    for ns, nodes in sorted(by_ns.items(), key=lambda kv: kv[0] or ""):
        group = _node("ns/" + (ns or "cluster"))
        lines.append(f'  subgraph {group}["namespace {_label(ns or "")}"]')
        lines.extend(nodes)
        lines.append("  end")
    known = {c.id for c in view.components}
    for entry in view.entry_points:
        if entry.kind in {"hostPort", "hostNetwork"}:
            continue
        tls = "" if entry.tls is None else (" TLS" if entry.tls else " no TLS")
        text = _label(f"{entry.kind} {entry.id.rsplit('/', 1)[-1]}{tls}")
        lines.append(f'  {_node(entry.id)}{{{{"{text}"}}}}')
        if entry.exposure in {"internet", "node"}:
            lines.append(f"  internet --> {_node(entry.id)}")
        lines.extend(f"  {_node(entry.id)} --> {_node(t)}" for t in entry.targets if t in known)
    for flow in view.data_flows:
        if flow.target not in known or flow.kind != "calls" or flow.source not in known:
            continue
        lines.append(f"  {_node(flow.source)} -.->|calls| {_node(flow.target)}")
    for entry in view.entry_points:
        if entry.kind in {"hostPort", "hostNetwork"} and entry.via in known:
            lines.append(f"  internet -.->|{_label(entry.kind)}| {_node(entry.via)}")
    return "\n".join(dict.fromkeys(lines)) + "\n"
