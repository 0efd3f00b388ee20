"""The network side of the graph: the internet, entry points, and lateral movement.

The internet reaches public entry points (ROUTE): a LoadBalancer or external IPs (requiring
their network findings), an Ingress or a gateway route and the Service behind it; the Service
leads into its workloads (ENDPOINT_EXPLOIT) when their ingress policies admit outside traffic
(for an Ingress or gateway, traffic from the controller's pods).

Between workloads, ENDPOINT_EXPLOIT follows the NetworkPolicies (:mod:`agents.facts.reachability`)
through shared vertices, so the graph grows with the rules and what they select, never with the
square of the workloads:

- ``Network/pods``, the pod network: every pod without egress restriction reaches it, and it
  reaches every pod no policy isolates for ingress (requiring ``network.pod-not-isolated``);
- one vertex per ingress rule: the pods its peers select (without egress restriction) reach it,
  it reaches the pods of its policy on the rule's ports;
- one vertex per egress rule, and one per pair of an egress rule and an ingress rule that both
  let the same pods through.

A source that holds a data store's credentials (the same Secret, or a literal credential next
to the store's address) also has a direct step to it, rated 4 instead of 3.
"""

from __future__ import annotations

import re

from agents.attack_graph.evidence import Evidence, fingerprint
from agents.attack_graph.graph import AttackGraph, Step, Vertex
from agents.attack_graph.kinds import AttackType, VertexKind
from agents.facts.derived import Facts
from agents.facts.reachability import PolicyRule, Reachability
from agents.facts.workloads import data_store
from workflow.domain.inventory import Inventory
from workflow.domain.resources import Workload

__all__ = ["POD_NETWORK", "add_entries", "add_lateral"]

#: The shared vertex of the pod network.
POD_NETWORK = "Network/pods"
_EXPLOIT = "an exposed port: exploiting the service behind it gives code execution"


def _admits_outside(reach: Reachability, wl_id: str, *, controller: bool) -> str | None:
    """Why outside traffic reaches a workload, or None when its ingress policies stop it."""
    if reach.ingress_open(wl_id):
        return "no NetworkPolicy isolates it"
    for rule in reach.ingress[wl_id]:
        if rule.external:
            return f"{rule.id} admits outside addresses"
        if controller and (rule.any_pod or rule.other_namespaces):
            return f"{rule.id} admits pods of other namespaces (the ingress controller)"
    return None


def add_entries(facts: Facts, graph: AttackGraph, ev: Evidence) -> None:
    """The internet's steps into the application."""
    inv, reach = facts.inventory, facts.reachability
    for wl_id, exposures in facts.exposures.items():
        wl = inv.workload(wl_id)
        if wl is None or wl.kind == "PodTemplate" or wl_id not in graph:
            continue
        for exposure in exposures:
            if not exposure.internet:
                continue
            entry = exposure.entry
            service = exposure.detail if exposure.kind == "Ingress" else (
                exposure.detail.rsplit(" -> ", 1)[-1] if exposure.kind == "Gateway" else entry)
            controller = exposure.kind in ("Ingress", "Gateway")
            why = _admits_outside(reach, wl_id, controller=controller)
            if why is None or not reach.endpoints.get(wl_id):
                continue
            if exposure.kind == "LoadBalancer":
                needed = ev.present(fingerprint("network.loadbalancer-service", entry))
            elif exposure.kind == "externalIPs":
                needed = ev.present(fingerprint("network.external-ips", entry))
            else:
                needed = ("",)
            if not needed:
                continue
            requires = tuple(n for n in needed if n)
            graph.add_vertex(Vertex(entry, VertexKind.ENTRY, f"{exposure.kind} {entry}"))
            graph.add_step(Step("internet", entry, AttackType.ROUTE, 5,
                                f"public {exposure.kind} ({exposure.detail})", requires,
                                requires))
            if service != entry:
                graph.add_vertex(Vertex(service, VertexKind.ENTRY, service))
                graph.add_step(Step(entry, service, AttackType.ROUTE, 5,
                                    f"routes to {service}"))
            if not graph.steps_between(service, wl_id):
                graph.add_step(Step(service, wl_id, AttackType.ENDPOINT_EXPLOIT, 3,
                                    f"{_EXPLOIT}; {why}"))


def _secret_refs(wl: Workload) -> set[str]:
    found: set[str] = set()
    for container in wl.pod.containers:
        for env in container.env:
            ref = (env.get("valueFrom") or {}).get("secretKeyRef") \
                if isinstance(env.get("valueFrom"), dict) else None
            if isinstance(ref, dict) and ref.get("name"):
                found.add(f"Secret/{wl.namespace}/{ref['name']}")
        for source in container.raw.get("envFrom") or []:
            ref = source.get("secretRef") if isinstance(source, dict) else None
            if isinstance(ref, dict) and ref.get("name"):
                found.add(f"Secret/{wl.namespace}/{ref['name']}")
    for volume in wl.pod.volumes:
        secret = volume.get("secret")
        if isinstance(secret, dict) and secret.get("secretName"):
            found.add(f"Secret/{wl.namespace}/{secret['secretName']}")
    return found


def _hosts(wl: Workload) -> set[str]:
    """The host names a workload's env values mention (``svc``, ``svc.ns``, ...)."""
    found: set[str] = set()
    for container in wl.pod.containers:
        for env in container.env:
            for word in re.split(r"[^A-Za-z0-9.-]+", str(env.get("value") or "")):
                parts = word.split(".")
                found.update(".".join(parts[:n]) for n in (1, 2) if len(parts) >= n)
    return found


def _credentials(facts: Facts, graph: AttackGraph, ev: Evidence,
                 workloads: list[Workload]) -> None:
    """Direct, likelier steps to data stores from the workloads that hold their credentials."""
    inv, reach = facts.inventory, facts.reachability
    stores = [wl for wl in workloads if data_store(wl) and reach.endpoints.get(wl.id)]
    if not stores:
        return
    by_secret: dict[str, list[Workload]] = {}
    for wl in workloads:
        for secret in _secret_refs(wl):
            by_secret.setdefault(secret, []).append(wl)
    by_host: dict[str, list[tuple[Workload, tuple[str, ...]]]] = {}
    for wl in workloads:
        literal = tuple(ev.of("data.literal-credential", wl.id))
        if literal:
            for host in _hosts(wl):
                by_host.setdefault(host, []).append((wl, literal))
    names = _service_names(inv)
    for store in stores:
        holders: dict[str, tuple[str, tuple[str, ...]]] = {}
        for secret in sorted(_secret_refs(store)):
            for wl in by_secret.get(secret, []):
                holders.setdefault(wl.id, (f"holds the store's credentials ({secret})", ()))
        for name in names.get(store.id, ()):
            for wl, literal in by_host.get(name, []):
                holders.setdefault(wl.id, (f"configured with the store's address ({name}) "
                                           "and a literal credential", literal))
        for wl_id, (why, findings) in sorted(holders.items()):
            if wl_id != store.id and reach.can_reach(wl_id, store.id):
                graph.add_step(Step(wl_id, store.id, AttackType.ENDPOINT_EXPLOIT, 4,
                                    f"reaches the store's port and {why}", findings))


def _service_names(inv: Inventory) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for svc in inv.services:
        name = svc.id.rsplit("/", 1)[-1]
        for target in svc.targets:
            names.setdefault(target, []).extend([f"{name}.{svc.namespace}", name])
    return names


class _Lateral:
    """Builds the workload-to-workload steps of one graph."""

    def __init__(self, facts: Facts, graph: AttackGraph, ev: Evidence) -> None:
        self.graph, self.ev, self.reach = graph, ev, facts.reachability
        self.running = [wl for wl in facts.inventory.workloads if wl.kind != "PodTemplate"]
        self.ids = {wl.id for wl in self.running}
        self.open_egress = {wl.id for wl in self.running if self.reach.egress_open(wl.id)
                            or any(r.any_pod for r in self.reach.egress[wl.id])}

    def rule_vertex(self, rule_id: str, label: str) -> str:
        if rule_id not in self.graph:
            self.graph.add_vertex(Vertex(rule_id, VertexKind.NETWORK, label))
        return rule_id

    def into(self, source: str, target: str, condition: str) -> None:
        """A step from a shared network vertex into a workload."""
        requires: tuple[str, ...] = ()
        if self.reach.ingress_open(target) and target not in self.reach.host_network:
            requires = self.ev.present(fingerprint("network.pod-not-isolated", target))
            if not requires:
                return
        self.graph.add_step(Step(source, target, AttackType.ENDPOINT_EXPLOIT, 3,
                                 f"{_EXPLOIT}; {condition}", requires, requires))

    def ingress_side(self) -> None:
        reach = self.reach
        for wl in self.running:
            ports = reach.endpoints.get(wl.id)
            if not ports:
                continue
            if reach.ingress_open(wl.id):
                self.into(POD_NETWORK, wl.id, "no NetworkPolicy isolates it")
                continue
            for rule in reach.ingress[wl.id]:
                if not rule.ports.admits(ports):
                    continue
                if rule.any_pod:
                    self.into(POD_NETWORK, wl.id, f"{rule.id} admits every pod")
                    continue
                sources = [s for s in sorted(rule.peers) if s in self.open_egress
                           and s not in reach.host_network and s in self.ids]
                if not sources:
                    continue
                vertex = self.rule_vertex(rule.id, f"allowed by {rule.id}")
                if not self.graph.steps_between(vertex, wl.id):
                    self.into(vertex, wl.id, f"allowed by {rule.id} on "
                                             f"{rule.ports.text()}")
                if self.graph.graph.in_degree(vertex) == 0:
                    for source in sources:
                        self.graph.add_step(Step(source, vertex, AttackType.ENDPOINT_EXPLOIT,
                                                 5, f"its pods match a peer of {rule.id}"))

    def egress_side(self) -> None:
        reach = self.reach
        seen: set[str] = set()
        for wl in self.running:
            if wl.id in self.open_egress:
                continue
            for rule in reach.egress.get(wl.id, []):
                if rule.id in seen:
                    continue
                seen.add(rule.id)
                self._egress_rule(rule)

    def _egress_rule(self, rule: PolicyRule) -> None:
        reach = self.reach
        owners = [o for o in rule.owners if o in self.ids and o not in self.open_egress]
        if not owners:
            return
        vertex = ""
        for target in sorted(rule.peers):
            ports = rule.ports.admits(reach.endpoints.get(target, ()))
            if not ports or target not in self.ids:
                continue
            if reach.ingress_open(target):
                vertex = vertex or self.rule_vertex(rule.id, f"allowed by {rule.id}")
                self.into(vertex, target, f"allowed by {rule.id}; no NetworkPolicy isolates it")
                continue
            for ingress in reach.ingress[target]:
                if not ingress.ports.admits(ports):
                    continue
                sources = owners if ingress.any_pod else [o for o in owners
                                                          if o in ingress.peers]
                if not sources:
                    continue
                pair = self.rule_vertex(f"{rule.id}+{ingress.id}",
                                        f"allowed by {rule.id} and {ingress.id}")
                self.into(pair, target, f"allowed by {rule.id} and {ingress.id}")
                if self.graph.graph.in_degree(pair) == 0:
                    for source in sources:
                        self.graph.add_step(Step(source, pair, AttackType.ENDPOINT_EXPLOIT, 5,
                                                 f"its pods are selected by {rule.policy}"))
        if vertex:
            for owner in owners:
                self.graph.add_step(Step(owner, vertex, AttackType.ENDPOINT_EXPLOIT, 5,
                                         f"its pods are selected by {rule.policy}"))


def add_lateral(facts: Facts, graph: AttackGraph, ev: Evidence) -> None:
    """The workload-to-workload steps the NetworkPolicies allow."""
    graph.add_vertex(Vertex(POD_NETWORK, VertexKind.NETWORK,
                            "the pod network (no NetworkPolicy in the way)"))
    lateral = _Lateral(facts, graph, ev)
    for wl in lateral.running:
        if wl.id in lateral.open_egress:
            graph.add_step(Step(wl.id, POD_NETWORK, AttackType.ENDPOINT_EXPLOIT, 5,
                                "its egress is not restricted" if facts.reachability.egress_open(
                                    wl.id) else "an egress rule admits every pod"))
    lateral.ingress_side()
    lateral.egress_side()
    _credentials(facts, graph, ev, lateral.running)
