"""How workloads are reachable from outside the cluster network.

Services (LoadBalancer, NodePort, externalIPs), Ingress, Istio and Gateway API gateways, host
network and host ports.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from workflow.domain.inventory import Inventory
from workflow.domain.resources import Resource

__all__ = [
    "Exposure",
    "find_exposures",
    "gateway_routes",
    "lb_restricted",
]

_INTERNAL_LB = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": None,
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "networking.gke.io/load-balancer-type": "Internal",
    "cloud.google.com/load-balancer-type": "Internal",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    "service.beta.kubernetes.io/oci-load-balancer-internal": "true",
}


@dataclass(frozen=True)
class Exposure:
    """One way a workload is reachable from outside the cluster network."""

    entry: str
    kind: str
    internet: bool
    path: str
    detail: str = ""


def lb_restricted(res: Resource | None) -> bool:
    """True for a LoadBalancer Service that is internal or limited by source ranges."""
    if res is None:
        return False
    for key, value in _INTERNAL_LB.items():
        if key in res.annotations and (value is None
                                       or res.annotations[key].lower() == value.lower()):
            return True
    ranges = res.get("/spec/loadBalancerSourceRanges")
    return isinstance(ranges, list) and bool(ranges) and "0.0.0.0/0" not in ranges


def _service_by_name(inv: Inventory, namespace: str, host: str) -> str | None:
    """A Service id from a host name (``svc``, ``svc.ns``, ``svc.ns.svc.cluster.local``)."""
    parts = host.split(".")
    name = parts[0]
    ns = parts[1] if len(parts) > 1 and parts[1] not in {"svc", ""} else namespace
    rid = f"Service/{ns}/{name}"
    return rid if rid in inv else None


def gateway_routes(inv: Inventory) -> Iterator[tuple[str, str, str]]:
    """(gateway id, service id, route id) for Istio and Gateway API routes."""
    gateways = {r.name: r for r in inv.of_kind("Gateway")}
    for vs in inv.of_kind("VirtualService"):
        names = vs.get("/spec/gateways") or []
        attached = [gateways[str(g).rsplit("/", 1)[-1]] for g in names
                    if str(g).rsplit("/", 1)[-1] in gateways]
        if not attached:
            continue
        for proto in ("http", "tcp", "tls"):
            for route in vs.get(f"/spec/{proto}") or []:
                for dest in (route.get("route") or []) if isinstance(route, dict) else []:
                    host = (dest.get("destination") or {}).get("host") \
                        if isinstance(dest, dict) else None
                    svc = _service_by_name(inv, vs.namespace or "default", str(host or ""))
                    if svc:
                        for gw in attached:
                            yield gw.id, svc, vs.id
    for route in inv.of_kind("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute"):
        parents = [gateways[str(p.get("name"))] for p in route.get("/spec/parentRefs") or []
                   if isinstance(p, dict) and str(p.get("name")) in gateways]
        for rule in route.get("/spec/rules") or []:
            for ref in (rule.get("backendRefs") or []) if isinstance(rule, dict) else []:
                if isinstance(ref, dict) and ref.get("name"):
                    svc = _service_by_name(inv, str(ref.get("namespace")
                                                    or route.namespace or "default"),
                                           str(ref["name"]))
                    if svc:
                        for gw in parents:
                            yield gw.id, svc, route.id


def find_exposures(inv: Inventory) -> dict[str, tuple[Exposure, ...]]:
    """Workload id -> the ways it is reachable from outside the cluster network."""
    found: dict[str, list[Exposure]] = {}

    def add(targets: Iterable[str], exposure: Exposure) -> None:
        for target in targets:
            found.setdefault(target, []).append(exposure)

    services = {svc.id: svc for svc in inv.services}
    for svc in inv.services:
        res = inv.get(svc.id)
        if svc.type == "LoadBalancer":
            add(svc.targets, Exposure(svc.id, "LoadBalancer", not lb_restricted(res), "/spec/type",
                                      "LoadBalancer"))
        elif svc.type == "NodePort":
            add(svc.targets, Exposure(svc.id, "NodePort", False, "/spec/type", "NodePort"))
        if svc.external_ips:
            add(svc.targets, Exposure(svc.id, "externalIPs", True, "/spec/externalIPs",
                                      ",".join(svc.external_ips)))
    for ing in inv.ingresses:
        for backend in ing.backends:
            routed = services.get(backend.service)
            if routed is not None:
                add(routed.targets, Exposure(ing.id, "Ingress", True, backend.pointer,
                                             backend.service))
    for gw, svc_id, route in gateway_routes(inv):
        routed = services.get(svc_id)
        if routed is not None:
            add(routed.targets, Exposure(gw, "Gateway", True, "/spec",
                                         f"{route} -> {svc_id}"))
    _host_exposures(inv, add)
    return {k: tuple(v) for k, v in found.items()}


def _host_exposures(inv: Inventory, add: Any) -> None:
    for wl in inv.workloads:
        if wl.pod.flag("hostNetwork"):
            add([wl.id], Exposure(wl.id, "hostNetwork", False, wl.pod.path + "/hostNetwork",
                                  "true"))
        for container in wl.pod.containers:
            for index, port in enumerate(container.ports):
                if port.get("hostPort"):
                    add([wl.id], Exposure(wl.id, "hostPort", False,
                                          f"{container.path}/ports/{index}/hostPort",
                                          str(port.get("hostPort"))))
