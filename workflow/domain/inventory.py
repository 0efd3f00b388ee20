"""The inventory: a typed, normalised graph of the application's Kubernetes resources.

Resources and their typed views are in :mod:`workflow.domain.resources`, RBAC in
:mod:`workflow.domain.rbac`; this module indexes them and derives the relations between them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict

from workflow.domain.cilium import CILIUM_KINDS, cilium_specs
from workflow.domain.rbac import (
    BUILTIN_CLUSTER_ROLES,
    Binding,
    Grant,
    PolicyRule,
    RoleView,
    Subject,
)
from workflow.domain.resources import (
    WORKLOAD_KINDS,
    Container,
    Edge,
    Ingress,
    IngressBackend,
    NetworkPolicy,
    PodSpec,
    Resource,
    SecretValue,
    Service,
    Workload,
    pointer,
    resource_id,
)
from workflow.domain.selectors import matches_selector, selector_is_empty

__all__ = ["Inventory", "build_inventory"]

def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _tuple_str(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if isinstance(value, str):
        return (value,)
    return ()


class Inventory(BaseModel):
    """All resources of one application, with typed views and relations."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    resources: dict[str, Resource]
    secret_values: tuple[SecretValue, ...] = ()
    default_namespace: str = "default"

    # ---- lookups ---------------------------------------------------------------------------
    def get(self, resource_id_: str) -> Resource | None:
        """The resource with that id, or None."""
        return self.resources.get(resource_id_)

    def __contains__(self, resource_id_: object) -> bool:
        return resource_id_ in self.resources

    def of_kind(self, *kinds: str) -> Iterator[Resource]:
        """Resources of the given kinds, in id order."""
        if len(kinds) == 1:
            yield from self._by_kind.get(kinds[0], ())
            return
        wanted = set(kinds)
        for res in self._sorted:
            if res.kind in wanted:
                yield res

    @cached_property
    def _sorted(self) -> tuple[Resource, ...]:
        return tuple(self.resources[rid] for rid in sorted(self.resources))

    @cached_property
    def _by_kind(self) -> dict[str, tuple[Resource, ...]]:
        grouped: dict[str, list[Resource]] = defaultdict(list)
        for res in self._sorted:
            grouped[res.kind].append(res)
        return {kind: tuple(items) for kind, items in grouped.items()}

    @cached_property
    def namespaces(self) -> tuple[str, ...]:
        """Every namespace that holds a resource or is declared."""
        names = {r.namespace for r in self.resources.values() if r.namespace}
        names |= {r.name for r in self.resources.values() if r.kind == "Namespace"}
        return tuple(sorted(names))

    # ---- workloads ---------------------------------------------------------------------------
    @cached_property
    def workloads(self) -> tuple[Workload, ...]:
        """Every resource that runs pods, with its pod spec and containers."""
        out = []
        for res in self.of_kind(*WORKLOAD_KINDS):
            spec_path = WORKLOAD_KINDS[res.kind]
            spec = res.get(spec_path)
            if not isinstance(spec, dict):
                continue
            meta_path = spec_path.rsplit("/", 1)[0] + "/metadata"
            meta = res.get(meta_path) if res.kind != "Pod" else res.raw.get("metadata")
            meta = meta if isinstance(meta, dict) else {}
            containers = []
            for field, ckind in (("initContainers", "init"), ("containers", "container"),
                                 ("ephemeralContainers", "ephemeral")):
                items = spec.get(field)
                if not isinstance(items, list):
                    continue
                for index, item in enumerate(items):
                    if isinstance(item, dict):
                        containers.append(Container(
                            name=str(item.get("name", f"{field}-{index}")),
                            image=str(item.get("image", "")), kind=ckind,
                            path=f"{spec_path}/{field}/{index}", raw=item))
            pod = PodSpec(path=spec_path, raw=spec, labels=_str_map(meta.get("labels")),
                          annotations=_str_map(meta.get("annotations")),
                          containers=tuple(containers))
            namespace = res.namespace or "default"
            out.append(Workload(
                id=res.id, kind=res.kind, name=res.name, namespace=namespace, pod=pod,
                service_account_id=resource_id("ServiceAccount", pod.service_account, namespace)))
        return tuple(out)

    @cached_property
    def _workloads_by_ns(self) -> dict[str, list[Workload]]:
        grouped: dict[str, list[Workload]] = defaultdict(list)
        for wl in self.workloads:
            if wl.kind != "PodTemplate":
                grouped[wl.namespace].append(wl)
        return grouped

    def workload(self, resource_id_: str) -> Workload | None:
        """The workload view of a resource id, or None."""
        return self._workload_index.get(resource_id_)

    @cached_property
    def _workload_index(self) -> dict[str, Workload]:
        return {wl.id: wl for wl in self.workloads}

    def workloads_selected(self, namespace: str, selector: Mapping[str, Any] | None,
                           *, empty_selects_all: bool) -> tuple[str, ...]:
        """Ids of the workloads in ``namespace`` whose pod labels match ``selector``."""
        if selector_is_empty(selector) and not empty_selects_all:
            return ()
        candidates = self._workloads_by_ns.get(namespace, [])
        required = (selector or {}).get("matchLabels")
        if isinstance(required, Mapping) and required:
            # Only workloads carrying one of the required labels can match: start from the
            # rarest (index order is the namespace order, so results keep their order).
            candidates = min((self._workloads_by_label.get((namespace, str(k), str(v)), [])
                              for k, v in required.items()), key=len)
        return tuple(wl.id for wl in candidates if matches_selector(selector, wl.pod.labels))

    @cached_property
    def _workloads_by_label(self) -> dict[tuple[str, str, str], list[Workload]]:
        index: dict[tuple[str, str, str], list[Workload]] = {}
        for namespace, workloads in self._workloads_by_ns.items():
            for wl in workloads:
                for key, value in wl.pod.labels.items():
                    index.setdefault((namespace, key, value), []).append(wl)
        return index

    # ---- services, ingresses, policies -----------------------------------------------------
    @cached_property
    def services(self) -> tuple[Service, ...]:
        """Every Service with the workloads it selects."""
        out = []
        for res in self.of_kind("Service"):
            spec = _as_dict(res.raw.get("spec"))
            selector = _str_map(spec.get("selector"))
            ns = res.namespace or "default"
            targets = (self.workloads_selected(ns, {"matchLabels": selector},
                                               empty_selects_all=False) if selector else ())
            ports = spec.get("ports")
            out.append(Service(
                id=res.id, namespace=ns, type=str(spec.get("type") or "ClusterIP"),
                selector=selector,
                ports=tuple(p for p in ports if isinstance(p, dict))
                if isinstance(ports, list) else (),
                targets=targets, external_ips=_tuple_str(spec.get("externalIPs"))))
        return tuple(out)

    @cached_property
    def ingresses(self) -> tuple[Ingress, ...]:
        """Every Ingress with its backends."""
        out = []
        for res in self.of_kind("Ingress"):
            ns = res.namespace or "default"
            spec = _as_dict(res.raw.get("spec"))
            backends = []
            default = spec.get("defaultBackend") or spec.get("backend")
            if isinstance(default, dict):
                backends.append(self._backend(ns, None, None, default, "/spec/defaultBackend"))
            for ri, rule in enumerate(spec.get("rules") or []):
                if not isinstance(rule, dict):
                    continue
                http = _as_dict(rule.get("http"))
                for pi, item in enumerate(http.get("paths") or []):
                    if isinstance(item, dict) and isinstance(item.get("backend"), dict):
                        backends.append(self._backend(
                            ns, rule.get("host"), item.get("path"), item["backend"],
                            pointer("spec", "rules", ri, "http", "paths", pi, "backend")))
            tls = _as_list(spec.get("tls"))
            hosts = tuple(str(h) for t in tls if isinstance(t, dict) for h in t.get("hosts") or [])
            out.append(Ingress(id=res.id, namespace=ns,
                               backends=tuple(b for b in backends if b is not None),
                               tls_hosts=hosts, has_tls=bool(tls)))
        return tuple(out)

    @staticmethod
    def _backend(ns: str, host: Any, path: Any, backend: dict[str, Any],
                 ptr: str) -> IngressBackend | None:
        svc = backend.get("service")
        if isinstance(svc, dict):
            name = svc.get("name")
            port_obj = _as_dict(svc.get("port"))
            port = port_obj.get("number") or port_obj.get("name")
        else:
            name = backend.get("serviceName")
            port = backend.get("servicePort")
        if not name:
            return None
        return IngressBackend(host=str(host) if host else None, path=str(path) if path else None,
                              service=resource_id("Service", str(name), ns),
                              port=str(port) if port is not None else None, pointer=ptr)

    @cached_property
    def network_policies(self) -> tuple[NetworkPolicy, ...]:
        """Every NetworkPolicy (Cilium's included) with the workloads it selects.

        A clusterwide Cilium policy is one view per namespace it applies to.
        """
        out = []
        for res in self.of_kind("NetworkPolicy"):
            ns = res.namespace or "default"
            spec = _as_dict(res.raw.get("spec"))
            selector = _as_dict(spec.get("podSelector"))
            types = _tuple_str(spec.get("policyTypes"))
            ingress = _as_list(spec.get("ingress"))
            egress = _as_list(spec.get("egress"))
            if not types:  # the API server's defaulting
                types = ("Ingress", "Egress") if egress else ("Ingress",)
            out.append(NetworkPolicy(
                id=res.id, namespace=ns, pod_selector=selector, policy_types=types,
                ingress=tuple(r if isinstance(r, dict) else {} for r in ingress or []),
                egress=tuple(r if isinstance(r, dict) else {} for r in egress or []),
                targets=self.workloads_selected(ns, selector, empty_selects_all=True)))
        for res in self.of_kind(*CILIUM_KINDS):
            for cilium in cilium_specs(res.raw):
                if res.namespace is not None:
                    scopes: tuple[str, ...] = (res.namespace,)
                elif cilium.namespace is not None:
                    scopes = (cilium.namespace,)
                else:
                    scopes = self.namespaces
                for ns in scopes:
                    out.append(NetworkPolicy(
                        id=res.id, namespace=ns, kind=res.kind,
                        pod_selector=cilium.pod_selector, policy_types=cilium.policy_types,
                        ingress=tuple(cilium.ingress), egress=tuple(cilium.egress),
                        pointer=cilium.pointer, ingress_paths=tuple(cilium.ingress_paths),
                        egress_paths=tuple(cilium.egress_paths),
                        targets=self.workloads_selected(ns, cilium.pod_selector,
                                                        empty_selects_all=True)))
        return tuple(out)

    # ---- RBAC ------------------------------------------------------------------------------
    @cached_property
    def roles(self) -> dict[str, RoleView]:
        """Roles and ClusterRoles by id, aggregation resolved, built-in roles included."""
        found: dict[str, RoleView] = {}
        aggregation: dict[str, list[dict[str, Any]]] = {}
        for res in self.of_kind("Role", "ClusterRole"):
            rules = []
            for index, rule in enumerate(res.raw.get("rules") or []):
                if not isinstance(rule, dict):
                    continue
                rules.append(PolicyRule(
                    api_groups=_tuple_str(rule.get("apiGroups")),
                    resources=_tuple_str(rule.get("resources")),
                    verbs=_tuple_str(rule.get("verbs")),
                    resource_names=_tuple_str(rule.get("resourceNames")),
                    non_resource_urls=_tuple_str(rule.get("nonResourceURLs")),
                    pointer=pointer("rules", index)))
            found[res.id] = RoleView(id=res.id, kind=res.kind,
                                     name=res.name,
                                     namespace=res.namespace if res.kind == "Role" else None,
                                     rules=tuple(rules))
            agg = res.raw.get("aggregationRule")
            if res.kind == "ClusterRole" and isinstance(agg, dict):
                selectors = agg.get("clusterRoleSelectors")
                aggregation[res.id] = [s for s in selectors or [] if isinstance(s, dict)]
        for rid, selectors in aggregation.items():
            members = [other for other in self.of_kind("ClusterRole") if other.id != rid
                       and any(matches_selector(sel, other.labels) for sel in selectors)]
            extra = [rule for m in members for rule in found[m.id].rules]
            base = found[rid]
            found[rid] = base.model_copy(update={
                "rules": base.rules + tuple(extra),
                "aggregated_from": tuple(m.id for m in members)})
        aggregated = self._builtin_aggregation(found)
        for role in BUILTIN_CLUSTER_ROLES.values():
            declared = found.get(role.id)
            into, into_members = aggregated.get(role.name, ((), ()))
            if declared is None:
                found[role.id] = role.model_copy(update={
                    "rules": role.rules + into, "aggregated_from": into_members})
            else:  # the API server reconciles default roles: their rules always remain
                found[role.id] = declared.model_copy(update={
                    "rules": declared.rules + role.rules + into, "builtin": True,
                    "aggregated_from": declared.aggregated_from + into_members})
        return found

    def _builtin_aggregation(self, found: Mapping[str, RoleView]
                             ) -> dict[str, tuple[tuple[PolicyRule, ...], tuple[str, ...]]]:
        """view, edit and admin -> the rules (and roles) aggregated into them by label.

        A ClusterRole labelled ``rbac.authorization.k8s.io/aggregate-to-view: "true"`` adds its
        rules to view and, because view aggregates into edit and edit into admin, to those too.
        """
        out: dict[str, tuple[tuple[PolicyRule, ...], tuple[str, ...]]] = {}
        parent: str | None = None
        for name in ("view", "edit", "admin"):
            members = [r.id for r in self.of_kind("ClusterRole")
                       if r.labels.get(f"rbac.authorization.k8s.io/aggregate-to-{name}") == "true"
                       and r.id in found]
            rules = tuple(rule for m in members for rule in found[m].rules)
            inherited = out.get(parent, ((), ())) if parent else ((), ())
            out[name] = (inherited[0] + rules, inherited[1] + tuple(members))
            parent = name
        return out

    @cached_property
    def bindings(self) -> tuple[Binding, ...]:
        """Every RoleBinding and ClusterRoleBinding."""
        out = []
        for res in self.of_kind("RoleBinding", "ClusterRoleBinding"):
            ref = _as_dict(res.raw.get("roleRef"))
            ref_kind = str(ref.get("kind") or "ClusterRole")
            ns = res.namespace if res.kind == "RoleBinding" else None
            role = (resource_id("Role", str(ref.get("name", "")), ns or "default")
                    if ref_kind == "Role" else f"ClusterRole/{ref.get('name', '')}")
            subjects = []
            for subject in res.raw.get("subjects") or []:
                if not isinstance(subject, dict):
                    continue
                kind = str(subject.get("kind") or "")
                sub_ns = subject.get("namespace")
                if kind == "ServiceAccount" and not sub_ns:
                    sub_ns = ns or self.default_namespace
                subjects.append(Subject(kind=kind, name=str(subject.get("name") or ""),
                                        namespace=str(sub_ns) if sub_ns else None))
            out.append(Binding(id=res.id, kind=res.kind,
                               namespace=ns, role=role, subjects=tuple(subjects)))
        return tuple(out)

    @cached_property
    def grants(self) -> tuple[Grant, ...]:
        """Every (subject, rule) pair that a binding creates, with its scope."""
        out = []
        for binding in self.bindings:
            role = self.roles.get(binding.role)
            if role is None:
                continue
            scope = binding.namespace or "cluster"
            for subject in binding.subjects:
                for rule in role.rules:
                    out.append(Grant(subject=subject.id, role=role.id, binding=binding.id,
                                     scope=scope, rule=rule))
        return tuple(out)

    def grants_of(self, subject_id: str) -> tuple[Grant, ...]:
        """The grants that a subject (e.g. ``ServiceAccount/ns/name``) holds."""
        return self._grants_by_subject.get(subject_id, ())

    @cached_property
    def _grants_by_subject(self) -> dict[str, tuple[Grant, ...]]:
        grouped: dict[str, list[Grant]] = defaultdict(list)
        for grant in self.grants:
            grouped[grant.subject].append(grant)
        return {k: tuple(v) for k, v in grouped.items()}

    def workloads_running_as(self, service_account_id: str) -> tuple[Workload, ...]:
        """The workloads whose pods run as a service account."""
        return tuple(wl for wl in self.workloads if wl.service_account_id == service_account_id)

    # ---- relations -------------------------------------------------------------------------
    @cached_property
    def edges(self) -> tuple[Edge, ...]:
        """All relations between resources, for diagrams and attack paths."""
        out: list[Edge] = []
        for svc in self.services:
            out.extend(Edge(source=svc.id, target=t, kind="exposes") for t in svc.targets)
        for ing in self.ingresses:
            out.extend(Edge(source=ing.id, target=b.service, kind="routes")
                       for b in ing.backends)
        for pol in self.network_policies:
            out.extend(Edge(source=pol.id, target=t, kind="selects") for t in pol.targets)
        for binding in self.bindings:
            out.append(Edge(source=binding.id, target=binding.role, kind="grants"))
            out.extend(Edge(source=binding.id, target=s.id, kind="binds")
                       for s in binding.subjects)
        for wl in self.workloads:
            out.append(Edge(source=wl.id, target=wl.service_account_id, kind="runs-as"))
            for volume in wl.pod.volumes:
                for field, kind, key in (("secret", "Secret", "secretName"),
                                         ("configMap", "ConfigMap", "name"),
                                         ("persistentVolumeClaim", "PersistentVolumeClaim",
                                          "claimName")):
                    ref = volume.get(field)
                    if isinstance(ref, dict) and ref.get(key):
                        out.append(Edge(source=wl.id, kind="mounts", target=resource_id(
                            kind, str(ref[key]), wl.namespace)))
        return tuple(out)

    def summary(self) -> dict[str, int]:
        """Number of resources per kind."""
        counts: dict[str, int] = defaultdict(int)
        for res in self.resources.values():
            counts[res.kind] += 1
        return dict(sorted(counts.items()))


def build_inventory(resources: Iterable[Resource], secret_values: Iterable[SecretValue] = (),
                    *, default_namespace: str | None = None) -> Inventory:
    """Build an inventory; a later resource with the same id replaces an earlier one.

    ``default_namespace`` is where objects without a namespace were placed (``--namespace``);
    a ServiceAccount subject without one is resolved there too.
    """
    by_id: dict[str, Resource] = {}
    for res in resources:
        by_id[res.id] = res
    return Inventory(resources=by_id, secret_values=tuple(secret_values),
                     default_namespace=default_namespace or "default")
