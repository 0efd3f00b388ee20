"""Cilium's network policies, read as the NetworkPolicy views the analysis uses.

``CiliumNetworkPolicy`` (namespaced) and ``CiliumClusterwideNetworkPolicy`` (every namespace
unless its endpoint selector names one) are translated into the shape of a Kubernetes
NetworkPolicy, rule by rule, with Cilium's own semantics:

- an endpoint selected by a policy with a non-empty ``ingress`` (``egress``) section goes into
  default deny for that direction, unless ``enableDefaultDeny`` turns that off; deny sections
  alone isolate nothing;
- an empty rule (``ingress: [{}]``) allows nothing: it is how Cilium writes a default deny;
- a rule with ports but no peers admits those ports from anywhere, as in Kubernetes;
- peers: ``fromEndpoints`` (``{}`` is every pod of the namespace, or of the cluster for a
  clusterwide policy; ``k8s:io.kubernetes.pod.namespace`` picks a namespace), ``fromEntities``
  (``world`` is any address, ``cluster`` any pod, ``all`` both; host, remote-node, kube-apiserver
  and the like are kept as named entities that are not open), ``fromCIDR``/``fromCIDRSet``;
  the same for ``to*`` in egress (``toFQDNs`` and ``toServices`` are named, not open).

Host policies (``nodeSelector``) select nodes, not pods, and are left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["CILIUM_KINDS", "CiliumSpec", "cilium_specs"]

CILIUM_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")
_NAMESPACE_KEY = "io.kubernetes.pod.namespace"
_NAMESPACE_LABELS = "io.cilium.k8s.namespace.labels."
_PEER_KEYS = {"ingress": ("fromEndpoints", "fromEntities", "fromCIDR", "fromCIDRSet",
                          "fromRequires", "fromGroups", "fromNodes"),
              "egress": ("toEndpoints", "toEntities", "toCIDR", "toCIDRSet", "toFQDNs",
                         "toServices", "toGroups", "toNodes", "toRequires")}
_OPEN = {"cidr": "0.0.0.0/0"}


def _label_key(key: str) -> str:
    """A Cilium label key without its source prefix (``k8s:``, ``any:``)."""
    for prefix in ("k8s:", "any:"):
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def _selector(raw: Any) -> tuple[dict[str, Any], str | None, dict[str, str]]:
    """(pod selector, namespace it names, namespace labels it requires) of an EndpointSelector."""
    if not isinstance(raw, Mapping):
        return {}, None, {}
    labels: dict[str, str] = {}
    namespace: str | None = None
    ns_labels: dict[str, str] = {}
    for key, value in (raw.get("matchLabels") or {}).items():
        name = _label_key(str(key))
        if name == _NAMESPACE_KEY:
            namespace = str(value)
        elif name.startswith(_NAMESPACE_LABELS):
            ns_labels[name[len(_NAMESPACE_LABELS):]] = str(value)
        else:
            labels[name] = str(value)
    expressions = [{**e, "key": _label_key(str(e.get("key", "")))}
                   for e in raw.get("matchExpressions") or [] if isinstance(e, Mapping)]
    out: dict[str, Any] = {}
    if labels:
        out["matchLabels"] = labels
    if expressions:
        out["matchExpressions"] = expressions
    return out, namespace, ns_labels


def _endpoint_peer(raw: Any, clusterwide: bool) -> dict[str, Any]:
    pods, namespace, ns_labels = _selector(raw)
    peer: dict[str, Any] = {"podSelector": pods}
    if namespace is not None:
        peer["namespaceSelector"] = {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
    elif ns_labels:
        peer["namespaceSelector"] = {"matchLabels": ns_labels}
    elif clusterwide:
        peer["namespaceSelector"] = {}
    return peer


def _peers(rule: Mapping[str, Any], direction: str, clusterwide: bool) -> list[dict[str, Any]]:
    side = "from" if direction == "ingress" else "to"
    out: list[dict[str, Any]] = []
    for raw in rule.get(f"{side}Endpoints") or []:
        out.append(_endpoint_peer(raw, clusterwide))
    for entity in rule.get(f"{side}Entities") or []:
        name = str(entity)
        if name in {"world", "all"}:
            out.append({"ipBlock": dict(_OPEN)})
        if name in {"cluster", "all"}:
            out.append({"namespaceSelector": {}, "podSelector": {}})
        if name not in {"world", "all", "cluster"}:
            out.append({"entity": name})
    for cidr in rule.get(f"{side}CIDR") or []:
        out.append({"ipBlock": {"cidr": str(cidr)}})
    for item in rule.get(f"{side}CIDRSet") or []:
        if isinstance(item, Mapping):
            out.append({"ipBlock": {"cidr": str(item.get("cidr", "")),
                                    "except": list(item.get("except") or [])}})
    for key in ("FQDNs", "Services", "Groups", "Nodes"):
        out.extend({"entity": f"{side}{key}"} for _ in rule.get(f"{side}{key}") or [])
    return out


def _ports(rule: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in rule.get("toPorts") or []:
        for port in (item.get("ports") or []) if isinstance(item, Mapping) else []:
            if not isinstance(port, Mapping) or str(port.get("port", "0")) in {"0", ""}:
                return []  # port 0 is every port
            value = str(port["port"])
            out.append({"port": int(value) if value.isdigit() else value,
                        "protocol": str(port.get("protocol") or "TCP").upper()})
    return out


def _rule(rule: Any, direction: str, clusterwide: bool) -> dict[str, Any] | None:
    """A Cilium rule as a NetworkPolicy rule; None when it allows nothing."""
    if not isinstance(rule, Mapping):
        return None
    has_peer = any(k in rule for k in _PEER_KEYS[direction])
    ports = _ports(rule)
    if not has_peer and not rule.get("toPorts"):
        return None
    side = "from" if direction == "ingress" else "to"
    out: dict[str, Any] = {}
    if has_peer:
        peers = _peers(rule, direction, clusterwide)
        if not peers:
            return None
        out[side] = peers
    if ports:
        out["ports"] = ports
    return out


class CiliumSpec:
    """One spec of a Cilium policy, in NetworkPolicy terms."""

    def __init__(self, spec: Mapping[str, Any], pointer: str, clusterwide: bool) -> None:
        self.pointer = pointer
        pods, namespace, _ = _selector(spec.get("endpointSelector"))
        self.pod_selector = pods
        self.namespace = namespace
        deny = spec.get("enableDefaultDeny")
        deny = deny if isinstance(deny, Mapping) else {}
        types = []
        self.ingress: list[dict[str, Any]] = []
        self.egress: list[dict[str, Any]] = []
        self.ingress_paths: list[str] = []
        self.egress_paths: list[str] = []
        for direction, rules, paths in (("ingress", self.ingress, self.ingress_paths),
                                        ("egress", self.egress, self.egress_paths)):
            raw = spec.get(direction)
            if isinstance(raw, list) and raw and deny.get(direction) is not False:
                types.append(direction.capitalize())
            for index, item in enumerate(raw if isinstance(raw, list) else []):
                translated = _rule(item, direction, clusterwide)
                if translated is not None:
                    rules.append(translated)
                    paths.append(f"{pointer}/{direction}/{index}")
        self.policy_types = tuple(types)


def cilium_specs(raw: Mapping[str, Any]) -> Iterator[CiliumSpec]:
    """The pod-selecting specs of a Cilium policy object (``spec`` and ``specs``)."""
    clusterwide = raw.get("kind") == "CiliumClusterwideNetworkPolicy"
    spec = raw.get("spec")
    if isinstance(spec, Mapping) and "endpointSelector" in spec:
        yield CiliumSpec(spec, "/spec", clusterwide)
    for index, item in enumerate(raw.get("specs") or []):
        if isinstance(item, Mapping) and "endpointSelector" in item:
            yield CiliumSpec(item, f"/specs/{index}", clusterwide)
