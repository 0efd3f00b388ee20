"""Network reachability between workloads: NetworkPolicy semantics, from the manifests alone.

A pod is *isolated* for ingress (egress) when at least one policy of its own namespace selects
it and governs that direction; an isolated pod admits only what some rule of those policies
allows, a pod no policy isolates admits everything. Policies of other namespaces never apply.
A rule allows its peers (``podSelector`` in the policy's namespace, ``namespaceSelector`` with or
without a ``podSelector``, ``ipBlock``) on its ports (every port when it lists none); a rule
without peers allows every source (destination). ``hostNetwork`` pods are not governed by
policies: they admit and reach as if no policy selected them.

Everything is computed through the inventory's label and namespace indices (never pod against
pod), so the cost grows with the policies' rules and what they select, not with the square of
the workloads. :class:`Reachability` keeps, per workload, the rules that govern it; the attack
graph turns them into edges through shared vertices (the pod network, one per rule).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from workflow.domain.inventory import Inventory
from workflow.domain.resources import NetworkPolicy, Workload
from workflow.domain.selectors import matches_selector, selector_is_empty

__all__ = [
    "Endpoint",
    "PolicyRule",
    "PortSpec",
    "Reachability",
    "find_reachability",
]

Direction = Literal["ingress", "egress"]

_PRIVATE = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fd00::/8"))


@dataclass(frozen=True)
class Endpoint:
    """A port a workload listens on: number (0 when only named), name, protocol."""

    number: int
    name: str = ""
    protocol: str = "TCP"


@dataclass(frozen=True)
class PortSpec:
    """The ports of a rule: every port when ``ports`` is empty."""

    ports: tuple[tuple[str, str, int | None], ...] = ()

    def admits(self, endpoints: Iterable[Endpoint]) -> tuple[Endpoint, ...]:
        """The endpoints this rule's ports let through."""
        items = tuple(endpoints)
        if not self.ports:
            return items
        out = []
        for ep in items:
            for protocol, port, end in self.ports:
                if protocol != ep.protocol:
                    continue
                if port == "" or (ep.name and port == ep.name) or (
                        port.isdigit() and ep.number and (
                            int(port) == ep.number
                            or (end is not None and int(port) <= ep.number <= end))):
                    out.append(ep)
                    break
        return tuple(out)

    def text(self) -> str:
        """The ports as a reviewer reads them."""
        if not self.ports:
            return "any port"
        return ", ".join(f"{p or 'any'}{'-' + str(e) if e else ''}/{proto}"
                         for proto, p, e in self.ports)


@dataclass(frozen=True)
class PolicyRule:
    """One ingress or egress rule of a NetworkPolicy, its peers resolved to workloads.

    Attributes:
        id: ``NetworkPolicy/<ns>/<name>#ingress/<i>`` (or ``#egress/<i>``).
        policy: the policy's id; ``pointer`` the rule's JSON pointer in it.
        direction: ``ingress`` (``owners`` are the destinations, ``peers`` the sources) or
            ``egress`` (``owners`` are the sources, ``peers`` the destinations).
        owners: the workloads the policy selects.
        peers: the workloads its peers match (when ``any_pod`` is false).
        any_pod: the rule admits every pod of the cluster (no peers, an empty
            ``namespaceSelector``, or an ``ipBlock`` over the private ranges pods use).
        external: the rule admits addresses outside the cluster (no peers, or an ``ipBlock``
            over public space).
        other_namespaces: some peer admits pods of other namespaces by ``namespaceSelector``
            (an ingress controller's namespace may be among them).
        ports: the rule's ports.
    """

    id: str
    policy: str
    pointer: str
    direction: Direction
    owners: tuple[str, ...]
    peers: frozenset[str] = frozenset()
    any_pod: bool = False
    external: bool = False
    other_namespaces: bool = False
    ports: PortSpec = PortSpec()


@dataclass
class Reachability:
    """Who may open connections to whom, as the policies of the manifests decide.

    Attributes:
        ingress: workload id -> the ingress rules that govern it (absent: admits every source).
        egress: workload id -> the egress rules that govern it (absent: reaches every peer).
        endpoints: workload id -> the ports it listens on (declared container ports and the
            target ports of the Services that select it).
        host_network: workloads whose pods use the host network (no policy governs them).
        rules: every rule, by id.
    """

    ingress: dict[str, list[PolicyRule]] = field(default_factory=dict)
    egress: dict[str, list[PolicyRule]] = field(default_factory=dict)
    endpoints: dict[str, tuple[Endpoint, ...]] = field(default_factory=dict)
    host_network: frozenset[str] = frozenset()
    rules: dict[str, PolicyRule] = field(default_factory=dict)

    def ingress_open(self, workload: str) -> bool:
        """True when no policy isolates the workload for ingress."""
        return workload not in self.ingress

    def egress_open(self, workload: str) -> bool:
        """True when no policy restricts the workload's egress."""
        return workload not in self.egress

    def can_reach(self, source: str, target: str) -> tuple[Endpoint, ...]:
        """The target's endpoints the source may connect to (pairwise: for tests and checks)."""
        ports = self.endpoints.get(target, ())
        if not ports:
            return ()
        if not self.egress_open(source):
            allowed: list[Endpoint] = []
            for rule in self.egress[source]:
                if rule.any_pod or target in rule.peers:
                    allowed.extend(rule.ports.admits(ports))
            ports = tuple(dict.fromkeys(allowed))
        if self.ingress_open(target) or not ports:
            return ports
        admitted: list[Endpoint] = []
        for rule in self.ingress[target]:
            if rule.any_pod or (source in rule.peers and source not in self.host_network):
                admitted.extend(rule.ports.admits(ports))
        return tuple(dict.fromkeys(admitted))


def _endpoints(inv: Inventory) -> dict[str, tuple[Endpoint, ...]]:
    found: dict[str, list[Endpoint]] = {}
    for wl in inv.workloads:
        for container in wl.pod.containers:
            if container.kind == "ephemeral":
                continue
            for port in container.ports:
                number = port.get("containerPort")
                found.setdefault(wl.id, []).append(Endpoint(
                    number if isinstance(number, int) else 0, str(port.get("name") or ""),
                    str(port.get("protocol") or "TCP").upper()))
    for svc in inv.services:
        for port in svc.ports:
            target = port.get("targetPort", port.get("port"))
            protocol = str(port.get("protocol") or "TCP").upper()
            for wl_id in svc.targets:
                known = found.setdefault(wl_id, [])
                if isinstance(target, int):
                    if not any(e.number == target and e.protocol == protocol for e in known):
                        known.append(Endpoint(target, "", protocol))
                elif isinstance(target, str) and target and not any(
                        e.name == target for e in known):
                    known.append(Endpoint(0, target, protocol))
    return {k: tuple(dict.fromkeys(v)) for k, v in found.items()}


def _ports(rule: Mapping[str, Any]) -> PortSpec:
    out = []
    for item in rule.get("ports") or []:
        if not isinstance(item, Mapping):
            continue
        port = item.get("port")
        end = item.get("endPort")
        out.append((str(item.get("protocol") or "TCP").upper(),
                    "" if port is None else str(port), end if isinstance(end, int) else None))
    return PortSpec(tuple(out))


def _cidr(block: Mapping[str, Any]) -> tuple[bool, bool]:
    """(admits pods, admits external addresses) of an ``ipBlock``."""
    try:
        net = ipaddress.ip_network(str(block.get("cidr", "")), strict=False)
    except ValueError:
        return False, False
    excepts = []
    for item in block.get("except") or []:
        try:
            excepts.append(ipaddress.ip_network(str(item), strict=False))
        except ValueError:
            continue
    pods = any(net.version == p.version and net.overlaps(p)
               and not any(e.version == p.version and p.subnet_of(e)  # type: ignore[arg-type]
                           for e in excepts)
               for p in _PRIVATE)
    external = net.prefixlen == 0 or not any(
        net.version == p.version and net.subnet_of(p) for p in _PRIVATE)  # type: ignore[arg-type]
    return pods, external


class _Resolver:
    """Peers to workloads, through the inventory's namespace and label indices."""

    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self.labels: dict[str, dict[str, str]] = {}
        for ns in inv.namespaces:
            res = inv.get(f"Namespace/{ns}")
            self.labels[ns] = {**(res.labels if res is not None else {}),
                               "kubernetes.io/metadata.name": ns}

    def namespaces(self, selector: Mapping[str, Any]) -> list[str]:
        return [ns for ns, labels in self.labels.items() if matches_selector(selector, labels)]

    def peer(self, own_ns: str, peer: Any) -> tuple[set[str], bool, bool, bool]:
        """(workloads, any pod, external, other namespaces) of one peer."""
        if not isinstance(peer, Mapping):
            return set(), False, False, False
        block = peer.get("ipBlock")
        if isinstance(block, Mapping):
            pods, external = _cidr(block)
            return set(), pods, external, False
        pod_sel = peer.get("podSelector")
        if "namespaceSelector" in peer:
            ns_sel = peer.get("namespaceSelector")
            if selector_is_empty(ns_sel if isinstance(ns_sel, Mapping) else None) \
                    and selector_is_empty(pod_sel if isinstance(pod_sel, Mapping) else None):
                return set(), True, False, True
            spaces = self.namespaces(ns_sel if isinstance(ns_sel, Mapping) else {})
            other = any(ns != own_ns for ns in spaces) or not spaces
        else:
            spaces, other = [own_ns], False
        found: set[str] = set()
        for ns in spaces:
            found.update(self.inv.workloads_selected(
                ns, pod_sel if isinstance(pod_sel, Mapping) else None, empty_selects_all=True))
        return found, False, False, other


def _rules(pol: NetworkPolicy, direction: Direction, resolver: _Resolver) -> list[PolicyRule]:
    items = pol.ingress if direction == "ingress" else pol.egress
    key = "from" if direction == "ingress" else "to"
    out = []
    for index, rule in enumerate(items):
        peers = rule.get(key)
        matched: set[str] = set()
        any_pod = external = other = False
        if not peers:
            any_pod = external = other = True
        for peer in peers or []:
            wls, all_pods, outside, foreign = resolver.peer(pol.namespace, peer)
            matched |= wls
            any_pod |= all_pods
            external |= outside
            other |= foreign
        out.append(PolicyRule(
            id=f"{pol.id}#{direction}/{index}", policy=pol.id,
            pointer=f"/spec/{direction}/{index}", direction=direction, owners=pol.targets,
            peers=frozenset() if any_pod else frozenset(matched), any_pod=any_pod,
            external=external, other_namespaces=other, ports=_ports(rule)))
    return out


def _running(inv: Inventory) -> list[Workload]:
    return [wl for wl in inv.workloads if wl.kind != "PodTemplate"]


def find_reachability(inv: Inventory) -> Reachability:
    """The reachability facts of an inventory."""
    resolver = _Resolver(inv)
    host = frozenset(wl.id for wl in _running(inv) if wl.pod.flag("hostNetwork"))
    result = Reachability(endpoints=_endpoints(inv), host_network=host)
    for pol in inv.network_policies:
        for direction, governs in (("ingress", pol.governs_ingress),
                                   ("egress", pol.governs_egress)):
            if not governs:
                continue
            rules = _rules(pol, direction, resolver)  # type: ignore[arg-type]
            result.rules.update((r.id, r) for r in rules)
            table = result.ingress if direction == "ingress" else result.egress
            for target in pol.targets:
                if target not in host:
                    table.setdefault(target, []).extend(rules)
    return result
