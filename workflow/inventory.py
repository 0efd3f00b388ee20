"""The inventory: a typed, normalised graph of the application's Kubernetes resources.

Every resource is addressed by ``Kind/namespace/name`` (cluster-scoped kinds: ``Kind/name``);
namespaced resources without a namespace are in ``default``. Values are already redacted by
:mod:`workflow.inputs`: no secret value is ever held here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflow.selectors import matches_selector, selector_is_empty

__all__ = [
    "BUILTIN_CLUSTER_ROLES",
    "CLUSTER_SCOPED_KINDS",
    "WORKLOAD_KINDS",
    "Binding",
    "Container",
    "Edge",
    "Grant",
    "Ingress",
    "IngressBackend",
    "Inventory",
    "NetworkPolicy",
    "PodSpec",
    "PolicyRule",
    "Resource",
    "RoleView",
    "SecretValue",
    "Service",
    "SourceRef",
    "Subject",
    "Workload",
    "build_inventory",
    "pointer",
    "resource_id",
]

CLUSTER_SCOPED_KINDS = frozenset({
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "StorageClass", "PriorityClass", "RuntimeClass",
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding", "PodSecurityPolicy", "APIService", "IngressClass",
    "CSIDriver", "VolumeAttachment", "ClusterIssuer", "ClusterPolicy", "ConstraintTemplate",
    "CertificateSigningRequest", "AuditSink",
})

#: Workload kind -> JSON pointer of its pod spec.
WORKLOAD_KINDS: dict[str, str] = {
    "Pod": "/spec",
    "Deployment": "/spec/template/spec",
    "StatefulSet": "/spec/template/spec",
    "DaemonSet": "/spec/template/spec",
    "ReplicaSet": "/spec/template/spec",
    "ReplicationController": "/spec/template/spec",
    "Job": "/spec/template/spec",
    "CronJob": "/spec/jobTemplate/spec/template/spec",
    "PodTemplate": "/template/spec",
    "DeploymentConfig": "/spec/template/spec",
}

_ID_UNSAFE = re.compile(r"[\s/]")


def resource_id(kind: str, name: str, namespace: str | None) -> str:
    """The stable inventory id of a resource."""
    if namespace is None:
        return f"{kind}/{name}"
    return f"{kind}/{namespace}/{name}"


def pointer(*parts: str | int) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    out = []
    for part in parts:
        text = str(part).replace("~", "~0").replace("/", "~1")
        out.append(text)
    return "/" + "/".join(out)


def _dig(data: Any, path: str) -> Any:
    """Follow a JSON pointer into nested dicts and lists; None where it leads nowhere."""
    node = data
    for raw in path.strip("/").split("/"):
        if raw == "":
            continue
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping):
            node = node.get(key)
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class SourceRef(_Frozen):
    """Where a resource was read: file, document index in the file, first line (1-based)."""

    file: str
    document: int = 0
    line: int | None = None


class SecretValue(_Frozen):
    """A secret value found at load time: where it was, why, and a keyed fingerprint."""

    resource: str | None
    file: str
    path: str
    reason: str
    fingerprint: str
    location: Literal["secret", "env", "args", "command", "configmap", "annotation", "other"] = (
        "other")


class Resource(_Frozen):
    """One Kubernetes object, redacted."""

    id: str
    kind: str
    api_version: str
    name: str
    namespace: str | None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    source: SourceRef
    raw: dict[str, Any]
    known: bool = True
    lines: dict[str, int] = Field(default_factory=dict, repr=False,
                                  description="JSON pointer -> 1-based line in the source file.")

    def line_of(self, path: str) -> int | None:
        """The source line of a JSON pointer, or of its nearest ancestor that has one."""
        probe = path
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe.rsplit("/", 1)[0]
        return self.source.line

    def get(self, path: str) -> Any:
        """The value at a JSON pointer inside the object, or None."""
        return _dig(self.raw, path)


class Container(_Frozen):
    """A container (or init or ephemeral container) of a pod spec."""

    name: str
    image: str
    kind: Literal["container", "init", "ephemeral"]
    path: str
    raw: dict[str, Any]

    @property
    def security_context(self) -> dict[str, Any]:
        """The container's securityContext (empty when unset)."""
        value = self.raw.get("securityContext")
        return value if isinstance(value, dict) else {}

    @property
    def image_digest(self) -> str | None:
        """The digest the image is pinned to, if any."""
        return self.image.split("@", 1)[1] if "@" in self.image else None

    @property
    def image_tag(self) -> str | None:
        """The image tag, or None when the image has none."""
        ref = self.image.split("@", 1)[0]
        last = ref.rsplit("/", 1)[-1]
        return last.split(":", 1)[1] if ":" in last else None

    @property
    def env(self) -> list[dict[str, Any]]:
        """The container's env entries."""
        value = self.raw.get("env")
        return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []

    @property
    def ports(self) -> list[dict[str, Any]]:
        """The container's declared ports."""
        value = self.raw.get("ports")
        return [p for p in value if isinstance(p, dict)] if isinstance(value, list) else []


class PodSpec(_Frozen):
    """A pod spec, wherever it sits inside its workload."""

    path: str
    raw: dict[str, Any]
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    containers: tuple[Container, ...] = ()

    @property
    def service_account(self) -> str:
        """The service account name the pods run as."""
        name = self.raw.get("serviceAccountName") or self.raw.get("serviceAccount") or "default"
        return str(name)

    @property
    def automount_token(self) -> bool | None:
        """The pod's automountServiceAccountToken, None when unset."""
        value = self.raw.get("automountServiceAccountToken")
        return value if isinstance(value, bool) else None

    @property
    def security_context(self) -> dict[str, Any]:
        """The pod-level securityContext (empty when unset)."""
        value = self.raw.get("securityContext")
        return value if isinstance(value, dict) else {}

    @property
    def volumes(self) -> list[dict[str, Any]]:
        """The pod's volumes."""
        value = self.raw.get("volumes")
        return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []

    def flag(self, name: str) -> bool:
        """True when a boolean field of the pod spec (hostNetwork, hostPID, ...) is true."""
        return self.raw.get(name) is True


class Workload(_Frozen):
    """A resource that runs pods."""

    id: str
    kind: str
    name: str
    namespace: str
    pod: PodSpec
    service_account_id: str


class IngressBackend(_Frozen):
    """One route of an Ingress to a Service."""

    host: str | None
    path: str | None
    service: str
    port: str | None
    pointer: str


class Ingress(_Frozen):
    """An Ingress and where it routes."""

    id: str
    namespace: str
    backends: tuple[IngressBackend, ...] = ()
    tls_hosts: tuple[str, ...] = ()
    has_tls: bool = False


class Service(_Frozen):
    """A Service and the workloads it selects."""

    id: str
    namespace: str
    type: str
    selector: dict[str, str] = Field(default_factory=dict)
    ports: tuple[dict[str, Any], ...] = ()
    targets: tuple[str, ...] = ()
    external_ips: tuple[str, ...] = ()

    @property
    def externally_exposed(self) -> bool:
        """True for LoadBalancer, NodePort and externalIPs services."""
        return self.type in {"LoadBalancer", "NodePort"} or bool(self.external_ips)


class NetworkPolicy(_Frozen):
    """A NetworkPolicy and the workloads it selects in its own namespace."""

    id: str
    namespace: str
    pod_selector: dict[str, Any] = Field(default_factory=dict)
    policy_types: tuple[str, ...] = ()
    ingress: tuple[dict[str, Any], ...] = ()
    egress: tuple[dict[str, Any], ...] = ()
    targets: tuple[str, ...] = ()

    @property
    def selects_all(self) -> bool:
        """True when the policy's podSelector is empty (every pod in the namespace)."""
        return selector_is_empty(self.pod_selector)

    @property
    def governs_ingress(self) -> bool:
        """True when the policy restricts ingress."""
        return "Ingress" in self.policy_types

    @property
    def governs_egress(self) -> bool:
        """True when the policy restricts egress."""
        return "Egress" in self.policy_types


class PolicyRule(_Frozen):
    """One RBAC policy rule."""

    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()
    pointer: str = ""

    def allows(self, verb: str, resource: str, api_group: str | None = None) -> bool:
        """True when the rule grants ``verb`` on ``resource`` (wildcards honoured)."""
        if "*" not in self.verbs and verb not in self.verbs:
            return False
        base, _, sub = resource.partition("/")
        if not ("*" in self.resources or resource in self.resources
                or (sub and (f"{base}/*" in self.resources or f"*/{sub}" in self.resources))):
            return False
        return api_group is None or "*" in self.api_groups or api_group in self.api_groups


class RoleView(_Frozen):
    """A Role or ClusterRole with its effective rules (aggregation resolved)."""

    id: str
    kind: Literal["Role", "ClusterRole"]
    name: str
    namespace: str | None
    rules: tuple[PolicyRule, ...] = ()
    builtin: bool = False
    aggregated_from: tuple[str, ...] = ()


class Subject(_Frozen):
    """A subject of a binding: a ServiceAccount, User or Group."""

    kind: str
    name: str
    namespace: str | None = None

    @property
    def id(self) -> str:
        """The subject as an inventory-style id."""
        if self.kind == "ServiceAccount":
            return resource_id("ServiceAccount", self.name, self.namespace or "default")
        return f"{self.kind}/{self.name}"


class Binding(_Frozen):
    """A RoleBinding or ClusterRoleBinding."""

    id: str
    kind: Literal["RoleBinding", "ClusterRoleBinding"]
    namespace: str | None
    role: str
    subjects: tuple[Subject, ...] = ()


class Grant(_Frozen):
    """A rule that a subject holds, with its scope and the binding that grants it."""

    subject: str
    role: str
    binding: str
    scope: str = Field(description="'cluster' or a namespace name.")
    rule: PolicyRule


class Edge(_Frozen):
    """A relation between two resources."""

    source: str
    target: str
    kind: Literal["exposes", "routes", "selects", "binds", "grants", "mounts", "runs-as",
                  "references", "owns"]


def _builtin_role(name: str, rules: Iterable[PolicyRule]) -> RoleView:
    return RoleView(id=f"ClusterRole/{name}", kind="ClusterRole", name=name, namespace=None,
                    rules=tuple(rules), builtin=True)


_ALL = ("*",)
_RW = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")
_RO = ("get", "list", "watch")
#: The default user-facing cluster roles of Kubernetes (simplified, conservative).
BUILTIN_CLUSTER_ROLES: dict[str, RoleView] = {
    "cluster-admin": _builtin_role("cluster-admin", [
        PolicyRule(api_groups=_ALL, resources=_ALL, verbs=_ALL),
        PolicyRule(non_resource_urls=_ALL, verbs=_ALL)]),
    "admin": _builtin_role("admin", [
        PolicyRule(api_groups=("", "apps", "batch", "extensions", "networking.k8s.io",
                               "autoscaling", "policy"),
                   resources=("pods", "pods/exec", "pods/attach", "pods/portforward", "secrets",
                              "configmaps", "services", "deployments", "statefulsets",
                              "daemonsets", "replicasets", "jobs", "cronjobs",
                              "serviceaccounts", "persistentvolumeclaims", "ingresses",
                              "networkpolicies"),
                   verbs=_RW),
        PolicyRule(api_groups=("rbac.authorization.k8s.io",),
                   resources=("roles", "rolebindings"), verbs=_RW),
        PolicyRule(api_groups=("",), resources=("serviceaccounts",), verbs=("impersonate",))]),
    "edit": _builtin_role("edit", [
        PolicyRule(api_groups=("", "apps", "batch", "extensions", "networking.k8s.io",
                               "autoscaling", "policy"),
                   resources=("pods", "pods/exec", "pods/attach", "pods/portforward", "secrets",
                              "configmaps", "services", "deployments", "statefulsets",
                              "daemonsets", "replicasets", "jobs", "cronjobs",
                              "serviceaccounts", "persistentvolumeclaims", "ingresses",
                              "networkpolicies"),
                   verbs=_RW),
        PolicyRule(api_groups=("",), resources=("serviceaccounts",), verbs=("impersonate",))]),
    "view": _builtin_role("view", [
        PolicyRule(api_groups=("", "apps", "batch", "extensions", "networking.k8s.io"),
                   resources=("pods", "configmaps", "services", "deployments", "statefulsets",
                              "daemonsets", "replicasets", "jobs", "cronjobs",
                              "serviceaccounts", "persistentvolumeclaims", "ingresses",
                              "networkpolicies", "endpoints", "events", "namespaces"),
                   verbs=_RO)]),
}


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
        """Every NetworkPolicy with the workloads it selects in its own namespace."""
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
        for role in BUILTIN_CLUSTER_ROLES.values():
            declared = found.get(role.id)
            if declared is None:
                found[role.id] = role
            else:  # the API server reconciles default roles: their rules always remain
                found[role.id] = declared.model_copy(update={
                    "rules": declared.rules + role.rules, "builtin": True})
        return found

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
                    sub_ns = ns or "default"
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


def build_inventory(resources: Iterable[Resource],
                    secret_values: Iterable[SecretValue] = ()) -> Inventory:
    """Build an inventory; a later resource with the same id replaces an earlier one."""
    by_id: dict[str, Resource] = {}
    for res in resources:
        by_id[res.id] = res
    return Inventory(resources=by_id, secret_values=tuple(secret_values))
