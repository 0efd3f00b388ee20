"""Where pods may run: the node pools the manifests can tell apart.

Nodes are not in the manifests; their pools show through the pods' placement. A pool is one
distinct set of required node labels (``nodeSelector``, a single required node-affinity term of
``In`` expressions with one value, ``nodeName``), with the well-known labels every node carries
(``kubernetes.io/os`` ...) left out; pods with no such constraint run on the pool ``any``. A pool
is taken as tainted with the tolerations that every workload selecting it carries (a dedicated
pool), so only workloads that tolerate those taints run there. A workload runs on every pool
whose labels include its required labels and whose taints it tolerates; DaemonSets run on every
node of those pools, other workloads on some of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflow.domain.inventory import Inventory
from workflow.domain.resources import Workload

__all__ = ["ANY_POOL", "NodePool", "Placement", "find_placement", "pool_vertex"]

#: The pool of pods without placement constraints.
ANY_POOL = "any"
_WELL_KNOWN = frozenset({"kubernetes.io/os", "beta.kubernetes.io/os", "kubernetes.io/arch",
                         "beta.kubernetes.io/arch"})
#: Taints the node lifecycle sets on any node: tolerating them says nothing about a pool.
_LIFECYCLE = ("node.kubernetes.io/", "node.cloudprovider.kubernetes.io/")


def pool_vertex(pool: str) -> str:
    """The attack-graph vertex of a pool: ``Node/<pool>``."""
    return f"Node/{pool}"


@dataclass(frozen=True)
class NodePool:
    """A node pool: its required labels and the taints inferred for it."""

    name: str
    labels: frozenset[tuple[str, str]] = frozenset()
    taints: frozenset[tuple[str, str, str]] = frozenset()


@dataclass
class Placement:
    """The node pools and which workloads run on each.

    Attributes:
        pools: pool name -> the pool.
        runs_on: workload id -> the pools its pods may be scheduled on.
        every_node: workloads that run on every node of their pools (DaemonSets).
    """

    pools: dict[str, NodePool] = field(default_factory=dict)
    runs_on: dict[str, tuple[str, ...]] = field(default_factory=dict)
    every_node: frozenset[str] = frozenset()

    def on_pool(self, pool: str) -> list[str]:
        """The workloads that may run on a pool, in inventory order."""
        return [wl for wl, pools in self.runs_on.items() if pool in pools]


def _required(wl: Workload) -> frozenset[tuple[str, str]]:
    raw = wl.pod.raw
    labels: dict[str, str] = {}
    selector = raw.get("nodeSelector")
    if isinstance(selector, Mapping):
        labels.update({str(k): str(v) for k, v in selector.items()})
    if isinstance(raw.get("nodeName"), str) and raw["nodeName"]:
        labels["kubernetes.io/hostname"] = raw["nodeName"]
    affinity = raw.get("affinity")
    node = affinity.get("nodeAffinity") if isinstance(affinity, Mapping) else None
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution") \
        if isinstance(node, Mapping) else None
    terms = required.get("nodeSelectorTerms") if isinstance(required, Mapping) else None
    if isinstance(terms, list) and len(terms) == 1 and isinstance(terms[0], Mapping):
        for expr in terms[0].get("matchExpressions") or []:
            if isinstance(expr, Mapping) and expr.get("operator") == "In" \
                    and len(expr.get("values") or []) == 1:
                labels[str(expr.get("key"))] = str(expr["values"][0])
    return frozenset((k, v) for k, v in labels.items() if k not in _WELL_KNOWN)


def _tolerations(wl: Workload) -> list[Mapping[str, Any]]:
    items = wl.pod.raw.get("tolerations")
    return [t for t in items if isinstance(t, Mapping)] if isinstance(items, list) else []


def _taint_keys(tolerations: Iterable[Mapping[str, Any]]) -> set[tuple[str, str, str]]:
    out = set()
    for tol in tolerations:
        key = str(tol.get("key") or "")
        if not key or key.startswith(_LIFECYCLE) or key.startswith("node-role.kubernetes.io/"):
            continue
        if tol.get("effect") not in (None, "", "NoSchedule", "NoExecute"):
            continue
        out.add((key, str(tol.get("value") or ""), str(tol.get("effect") or "")))
    return out


def _tolerates(tolerations: list[Mapping[str, Any]], taint: tuple[str, str, str]) -> bool:
    key, value, effect = taint
    for tol in tolerations:
        if tol.get("effect") not in (None, "") and effect and tol.get("effect") != effect:
            continue
        if tol.get("operator") == "Exists" and not tol.get("key"):
            return True
        if str(tol.get("key") or "") != key:
            continue
        if tol.get("operator") == "Exists" or str(tol.get("value") or "") == value:
            return True
    return False


def _name(labels: frozenset[tuple[str, str]]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels)) if labels else ANY_POOL


def find_placement(inv: Inventory) -> Placement:
    """The node pools of an inventory and where each workload may run."""
    workloads = [wl for wl in inv.workloads if wl.kind != "PodTemplate"]
    required = {wl.id: _required(wl) for wl in workloads}
    tolerations = {wl.id: _tolerations(wl) for wl in workloads}
    selecting: dict[frozenset[tuple[str, str]], list[str]] = {}
    for wl in workloads:
        selecting.setdefault(required[wl.id], []).append(wl.id)
    pools: dict[str, NodePool] = {}
    for labels, members in sorted(selecting.items(), key=lambda kv: _name(kv[0])):
        taints: set[tuple[str, str, str]] | None = None
        if labels:
            for member in members:
                keys = _taint_keys(tolerations[member])
                taints = keys if taints is None else taints & keys
        pools[_name(labels)] = NodePool(_name(labels), labels, frozenset(taints or ()))
    runs_on: dict[str, tuple[str, ...]] = {}
    for wl in workloads:
        runs_on[wl.id] = tuple(
            name for name, pool in pools.items()
            if required[wl.id] <= pool.labels
            and all(_tolerates(tolerations[wl.id], t) for t in pool.taints))
    return Placement(pools=pools, runs_on=runs_on,
                     every_node=frozenset(wl.id for wl in workloads if wl.kind == "DaemonSet"))
