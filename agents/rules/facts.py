"""Facts derived from the inventory that several rules, the reviewer and the attack paths share.

Pure functions over :class:`~workflow.domain.inventory.Inventory`: effective security contexts, data
stores and admin interfaces recognised by image and port, external exposure (Services, Ingress,
Istio and Gateway API gateways, host ports), data classification, RBAC capabilities of a
subject, and the positive controls (policy engines, default-deny policies, Pod Security
Admission labels) that the reviewer credits as mitigations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from agents.rules.memo import per_inventory
from workflow.domain.inventory import Inventory
from workflow.domain.rbac import Grant, PolicyRule
from workflow.domain.resources import Container, Resource, Workload

__all__ = [
    "ADMIN_UI_PORTS",
    "BASELINE_CAPABILITIES",
    "CLOUD_IDENTITY_ANNOTATIONS",
    "DATA_STORE_PORTS",
    "DEFAULT_CAPABILITIES",
    "RESTRICTED_VOLUME_TYPES",
    "SAFE_SYSCTLS",
    "SENSITIVE_CLASSES",
    "Capability",
    "Exposure",
    "admin_interface",
    "automounts_token",
    "capabilities_of",
    "classification",
    "classification_from_text",
    "cloud_identity",
    "container_value",
    "containers",
    "data_store",
    "default_deny_namespaces",
    "exposures",
    "hostpath_volumes",
    "internet_exposed",
    "is_logging_agent",
    "is_runtime_security_agent",
    "lb_restricted",
    "normalise_classification",
    "policy_engines",
    "psa_labels",
    "regulations_for",
    "service_account",
]

#: Capabilities the Pod Security Standards baseline allows to be added.
BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"})
#: Capabilities a container runtime grants by default (containerd/CRI-O defaults incl. NET_RAW).
DEFAULT_CAPABILITIES = BASELINE_CAPABILITIES | {"NET_RAW"}
#: Sysctls the Pod Security Standards baseline allows.
SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"})
#: Volume types the Pod Security Standards restricted profile allows.
RESTRICTED_VOLUME_TYPES = frozenset({
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
    "projected", "secret"})
#: Service-account annotations that bind a Kubernetes identity to a cloud identity.
CLOUD_IDENTITY_ANNOTATIONS: dict[str, str] = {
    "eks.amazonaws.com/role-arn": "AWS IAM role (EKS IRSA)",
    "iam.gke.io/gcp-service-account": "Google Cloud service account (GKE Workload Identity)",
    "azure.workload.identity/client-id": "Azure managed identity (Azure Workload Identity)",
}
#: Data classifications that call for more care (normalised names).
SENSITIVE_CLASSES = frozenset({"cardholder", "personal", "confidential", "restricted", "health"})

_CLASS_KEYS = ("data-classification", "data_classification", "dataclassification",
               "classification",
    "classification_from_text", "data-class", "data-sensitivity", "sensitivity")
_CLASS_VALUES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)pci|cardholder|payment-card|\bchd\b"), "cardholder"),
    (re.compile(r"(?i)phi|hipaa|health|medical"), "health"),
    (re.compile(r"(?i)pii|personal|gdpr|customer-data|user-data"), "personal"),
    (re.compile(r"(?i)restricted|secret|highly"), "restricted"),
    (re.compile(r"(?i)confidential|sensitive|private"), "confidential"),
    (re.compile(r"(?i)internal"), "internal"),
    (re.compile(r"(?i)public"), "public"),
)

#: image name fragment -> data store kind.
_DATA_STORE_IMAGES: tuple[tuple[str, str], ...] = (
    ("postgres", "database"), ("postgis", "database"), ("mysql", "database"),
    ("mariadb", "database"), ("mongo", "database"), ("cassandra", "database"),
    ("cockroach", "database"), ("couchdb", "database"), ("couchbase", "database"),
    ("influxdb", "database"), ("neo4j", "database"), ("clickhouse", "database"),
    ("mssql", "database"), ("oracle/database", "database"), ("timescale", "database"),
    ("redis", "cache"), ("valkey", "cache"), ("memcached", "cache"), ("keydb", "cache"),
    ("rabbitmq", "queue"), ("kafka", "queue"), ("nats", "queue"), ("activemq", "queue"),
    ("pulsar", "queue"), ("elasticsearch", "search"), ("opensearch", "search"),
    ("solr", "search"), ("minio", "object store"), ("etcd", "database"),
    ("zookeeper", "coordination"),
)
#: container port -> data store kind.
DATA_STORE_PORTS: dict[int, str] = {
    5432: "database", 3306: "database", 27017: "database", 9042: "database", 26257: "database",
    5984: "database", 8086: "database", 7687: "database", 1433: "database", 1521: "database",
    6379: "cache", 11211: "cache", 5672: "queue", 9092: "queue", 4222: "queue",
    9200: "search", 9300: "search", 2379: "database", 2181: "coordination"}
#: image name fragment -> admin interface.
_ADMIN_IMAGES: tuple[str, ...] = (
    "grafana", "kibana", "kubernetes-dashboard", "dashboard", "prometheus", "alertmanager",
    "jaeger", "argocd", "phpmyadmin", "adminer", "pgadmin", "jenkins", "portainer",
    "weave-scope", "scope", "mongo-express", "redis-commander", "rabbitmq:3-management",
    "kube-ops-view", "headlamp", "kiali", "airflow", "zipkin", "consul", "netdata",
    "elasticsearch-head", "cerebro", "kafdrop", "akhq", "spark-ui", "flower")
#: admin / dashboard ports.
ADMIN_UI_PORTS: dict[int, str] = {
    15672: "RabbitMQ management", 5601: "Kibana", 3000: "Grafana", 9090: "Prometheus",
    9093: "Alertmanager", 16686: "Jaeger UI", 8443: "dashboard (HTTPS)", 20001: "Kiali",
    8081: "admin console", 9000: "admin console"}
_LOGGING_AGENTS = ("fluentd", "fluent-bit", "fluentbit", "filebeat", "logstash", "promtail",
                   "vector", "splunk", "datadog", "newrelic", "otel", "opentelemetry-collector",
                   "loki", "sumologic", "logdna", "elastic-agent", "stackdriver", "cloudwatch")
_RUNTIME_SECURITY = ("falco", "sysdig", "tetragon", "tracee", "aqua", "twistlock", "prisma",
                     "neuvector", "crowdstrike", "kubearmor", "stackrox", "deepfence")
_INTERNAL_LB = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": None,
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "networking.gke.io/load-balancer-type": "Internal",
    "cloud.google.com/load-balancer-type": "Internal",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    "service.beta.kubernetes.io/oci-load-balancer-internal": "true",
}


def _image_name(image: str) -> str:
    return image.split("@", 1)[0].lower()


def containers(inv: Inventory) -> Iterator[tuple[Workload, Container]]:
    """Every (workload, container) pair, init and ephemeral containers included."""
    for wl in inv.workloads:
        for container in wl.pod.containers:
            yield wl, container


def hostpath_volumes(wl: Workload) -> Iterator[tuple[int, dict[str, Any], str, bool]]:
    """(index, volume, host path, writable) for each hostPath volume of a workload.

    Writable means some container mounts it without ``readOnly: true``.
    """
    for index, volume in enumerate(wl.pod.volumes):
        host = volume.get("hostPath")
        if not isinstance(host, dict):
            continue
        name = volume.get("name")
        mounts = [m for c in wl.pod.containers for m in c.raw.get("volumeMounts") or []
                  if isinstance(m, dict) and m.get("name") == name]
        writable = any(m.get("readOnly") is not True for m in mounts)
        yield index, volume, str(host.get("path", "")), writable


def container_value(wl: Workload, container: Container, key: str) -> Any:
    """A security-context field of a container, falling back to the pod-level field."""
    value = container.security_context.get(key)
    if value is None:
        value = wl.pod.security_context.get(key)
    return value


# ---- what a workload is -----------------------------------------------------------------
def _ports(wl: Workload) -> list[int]:
    out = []
    for container in wl.pod.containers:
        for port in container.ports:
            value = port.get("containerPort")
            if isinstance(value, int):
                out.append(value)
    return out


def data_store(wl: Workload) -> str | None:
    """The kind of data store a workload runs (database, cache, queue, ...), or None."""
    for container in wl.pod.containers:
        if container.kind != "container":
            continue
        name = _image_name(container.image).rsplit("/", 1)[-1]
        for fragment, kind in _DATA_STORE_IMAGES:
            if fragment in name and "exporter" not in name and "operator" not in name:
                return kind
    for port in _ports(wl):
        if port in DATA_STORE_PORTS:
            return DATA_STORE_PORTS[port]
    return None


def admin_interface(wl: Workload) -> str | None:
    """The admin interface or dashboard a workload serves, or None."""
    for container in wl.pod.containers:
        name = _image_name(container.image)
        for fragment in _ADMIN_IMAGES:
            base = name.rsplit("/", 1)[-1]
            if fragment in (name if "/" in fragment or ":" in fragment else base.split(":")[0]):
                if fragment == "prometheus" and "exporter" in base:
                    continue
                return fragment
    for port in _ports(wl):
        if port in ADMIN_UI_PORTS and port not in (8081, 9000, 8443):
            return ADMIN_UI_PORTS[port]
    return None


def is_logging_agent(wl: Workload) -> bool:
    """True when a workload ships logs (fluentd, Fluent Bit, Vector, Promtail, ...)."""
    return any(any(a in _image_name(c.image) for a in _LOGGING_AGENTS) for c in wl.pod.containers)


def is_runtime_security_agent(wl: Workload) -> bool:
    """True when a workload is a runtime-security sensor (Falco, Sysdig, Tetragon, ...)."""
    return any(any(a in _image_name(c.image) for a in _RUNTIME_SECURITY)
               for c in wl.pod.containers)


# ---- classification -------------------------------------------------------------------------
def normalise_classification(value: str | None) -> str | None:
    """A classification value in the normalised vocabulary (``pci`` -> ``cardholder``, ...)."""
    if not value:
        return None
    for pattern, normal in _CLASS_VALUES:
        if pattern.search(value):
            return normal
    return value.lower()


_NOTE_CLASS = re.compile(
    r"(?im)^[\s>*#|-]*\**data[ _-]?classification\**\s*[:=|]\s*\**([A-Za-z][\w /-]{1,40})")


def classification_from_text(text: str) -> str | None:
    """The data classification an architecture or review note declares, normalised.

    Recognises a line such as ``Data classification: PCI`` (Markdown emphasis, list or table
    syntax allowed); the first such line wins.
    """
    match = _NOTE_CLASS.search(text)
    return normalise_classification(match.group(1).strip()) if match else None


def _class_of(mapping: dict[str, str]) -> str | None:
    for key, value in sorted(mapping.items()):
        name = key.rsplit("/", 1)[-1].lower()
        if name in _CLASS_KEYS or any(name.endswith(k) for k in _CLASS_KEYS[:3]):
            return normalise_classification(value)
    return None


def classification(inv: Inventory, resource_id: str) -> str | None:
    """The data classification of a resource (its labels/annotations, pod template, namespace).

    Values are normalised: ``cardholder``, ``personal``, ``health``, ``restricted``,
    ``confidential``, ``internal``, ``public`` (or the raw value when unknown).
    """
    known: dict[str, str | None] = per_inventory("classification", inv, lambda _inv: {})
    if resource_id not in known:
        known[resource_id] = _classification(inv, resource_id)
    return known[resource_id]


def _classification(inv: Inventory, resource_id: str) -> str | None:
    res = inv.get(resource_id)
    if res is None:
        return None
    found = _class_of(res.labels) or _class_of(res.annotations)
    wl = inv.workload(resource_id)
    if found is None and wl is not None:
        found = _class_of(wl.pod.labels) or _class_of(wl.pod.annotations)
    if found is None and res.namespace:
        ns = inv.get(f"Namespace/{res.namespace}")
        if ns is not None:
            found = _class_of(ns.labels) or _class_of(ns.annotations)
    return found


def regulations_for(data_class: str | None) -> tuple[str, ...]:
    """Regulatory references that a data classification calls for."""
    if data_class == "cardholder":
        return ("PCI-DSS-4.0:1.3.1", "PCI-DSS-4.0:3.5.1", "PCI-DSS-4.0:7.2.1",
                "PCI-DSS-4.0:10.2.1")
    if data_class in {"personal", "health"}:
        return ("GDPR:Art.32", "GDPR:Art.25")
    return ()


# ---- exposure -------------------------------------------------------------------------------
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


def _gateway_routes(inv: Inventory) -> Iterator[tuple[str, str, str]]:
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


def exposures(inv: Inventory) -> dict[str, tuple[Exposure, ...]]:
    """Workload id -> the ways it is reachable from outside the cluster network."""
    result: dict[str, tuple[Exposure, ...]] = per_inventory("exposures", inv, _exposures)
    return result


def _exposures(inv: Inventory) -> dict[str, tuple[Exposure, ...]]:
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
    for gw, svc_id, route in _gateway_routes(inv):
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


def internet_exposed(inv: Inventory, workload_id: str) -> bool:
    """True when a workload is reachable from the internet (LoadBalancer, Ingress, Gateway)."""
    return any(e.internet for e in exposures(inv).get(workload_id, ()))


# ---- identity -------------------------------------------------------------------------------
def service_account(inv: Inventory, wl: Workload) -> Resource | None:
    """The ServiceAccount object a workload runs as, when it is in the manifests."""
    return inv.get(wl.service_account_id)


def automounts_token(inv: Inventory, wl: Workload) -> bool:
    """True when the pods get a service-account token (pod field wins over the SA's)."""
    if wl.pod.automount_token is not None:
        return wl.pod.automount_token
    sa = service_account(inv, wl)
    if sa is not None and isinstance(sa.raw.get("automountServiceAccountToken"), bool):
        return bool(sa.raw["automountServiceAccountToken"])
    return True


def cloud_identity(res: Resource | None) -> tuple[str, str, str] | None:
    """(annotation, value, description) of a cloud identity bound to a ServiceAccount."""
    if res is None:
        return None
    for key, text in CLOUD_IDENTITY_ANNOTATIONS.items():
        if res.annotations.get(key):
            return key, res.annotations[key], text
    return None


@dataclass(frozen=True)
class Capability:
    """A dangerous ability that an RBAC grant gives, and the grant that gives it."""

    key: str
    label: str
    grant: Grant


def _allows(rule: PolicyRule, verbs: Iterable[str], resources: Iterable[str],
            groups: Iterable[str]) -> bool:
    if rule.resource_names:
        return False
    if not ("*" in rule.verbs or any(v in rule.verbs for v in verbs)):
        return False
    if not ("*" in rule.api_groups or any(g in rule.api_groups for g in groups)):
        return False
    for resource in resources:
        base = resource.split("/", 1)[0]
        if "*" in rule.resources or resource in rule.resources or (
                "/" in resource and f"{base}/*" in rule.resources):
            return True
    return False


_WRITE = ("create", "update", "patch")
_CAPABILITIES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ("secrets-read", "read Secrets", ("get", "list", "watch"), ("secrets",), ("",)),
    ("pods-exec", "exec into pods", ("create", "get"), ("pods/exec",), ("",)),
    ("pods-attach", "attach to pods", ("create", "get"), ("pods/attach",), ("",)),
    ("create-pods", "create pods", ("create",), ("pods",), ("",)),
    ("create-workloads", "create workloads", ("create", "update", "patch"),
     ("deployments", "daemonsets", "statefulsets", "replicasets", "jobs", "cronjobs",
      "replicationcontrollers"), ("apps", "batch", "", "extensions")),
    ("escalate", "escalate roles", ("escalate",), ("roles", "clusterroles"),
     ("rbac.authorization.k8s.io",)),
    ("bind", "bind roles", ("bind",), ("roles", "clusterroles"), ("rbac.authorization.k8s.io",)),
    ("impersonate", "impersonate users, groups or service accounts", ("impersonate",),
     ("users", "groups", "serviceaccounts", "uids", "userextras/*"),
     ("", "authentication.k8s.io")),
    ("token-request", "mint service-account tokens", ("create",), ("serviceaccounts/token",),
     ("",)),
    ("nodes-proxy", "reach the kubelet API through nodes/proxy", ("get", "create"),
     ("nodes/proxy",), ("",)),
    ("webhook-write", "write admission webhook configurations", _WRITE,
     ("mutatingwebhookconfigurations", "validatingwebhookconfigurations"),
     ("admissionregistration.k8s.io",)),
    ("rbac-write", "write RBAC roles and bindings", _WRITE,
     ("roles", "rolebindings", "clusterroles", "clusterrolebindings"),
     ("rbac.authorization.k8s.io",)),
    ("csr-approve", "approve certificate signing requests", ("update", "patch"),
     ("certificatesigningrequests/approval",), ("certificates.k8s.io",)),
    ("pv-create", "create persistent volumes", ("create",), ("persistentvolumes",), ("",)),
)


_ADMIN_VERBS = frozenset({"get", "list", "create", "update", "patch", "delete"})


def _is_admin_rule(rule: PolicyRule) -> bool:
    """All resources in all groups with every verb, or every read and write verb."""
    if rule.resource_names or "*" not in rule.resources or "*" not in rule.api_groups:
        return False
    return "*" in rule.verbs or _ADMIN_VERBS <= set(rule.verbs)


def capabilities_of(grants: Iterable[Grant]) -> list[Capability]:
    """The dangerous abilities that a subject's grants give (first grant per ability/scope)."""
    out: dict[tuple[str, str], Capability] = {}
    for grant in grants:
        if _is_admin_rule(grant.rule):
            out.setdefault(("cluster-admin", grant.scope), Capability(
                "cluster-admin", "do anything (all verbs on all resources)", grant))
        for key, label, verbs, resources, groups in _CAPABILITIES:
            if _allows(grant.rule, verbs, resources, groups):
                out.setdefault((key, grant.scope), Capability(key, label, grant))
    return sorted(out.values(), key=lambda c: (c.key, c.grant.scope, c.grant.binding))


def subject_capabilities(inv: Inventory, subject: str) -> list[Capability]:
    """``capabilities_of`` the subject's grants, computed once per inventory and subject."""
    cache: dict[str, list[Capability]] = per_inventory("subject_capabilities", inv, lambda _inv: {})
    held = cache.get(subject)
    if held is None:
        held = cache[subject] = capabilities_of(inv.grants_of(subject))
    return held


# ---- positive controls ----------------------------------------------------------------------
_ENGINE_KINDS: dict[str, str] = {
    "ClusterPolicy": "Kyverno", "Policy": "Kyverno", "ConstraintTemplate": "Gatekeeper",
    "ValidatingAdmissionPolicy": "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding": "ValidatingAdmissionPolicy",
    "ClusterAdmissionPolicy": "Kubewarden", "AdmissionPolicy": "Kubewarden",
}
_ENGINE_IMAGES = {"kyverno": "Kyverno", "gatekeeper": "Gatekeeper", "kubewarden": "Kubewarden"}


def policy_engines(inv: Inventory) -> dict[str, str]:
    """Admission policy engines present: engine name -> the resource that shows it."""
    found: dict[str, str] = {}
    for res in inv.of_kind(*_ENGINE_KINDS):
        if res.kind == "Policy" and "kyverno" not in res.api_version:
            continue
        found.setdefault(_ENGINE_KINDS[res.kind], res.id)
    for res in inv.resources.values():
        if res.api_version.startswith("constraints.gatekeeper.sh"):
            found.setdefault("Gatekeeper", res.id)
    for wl in inv.workloads:
        for container in wl.pod.containers:
            for fragment, engine in _ENGINE_IMAGES.items():
                if fragment in _image_name(container.image):
                    found.setdefault(engine, wl.id)
    return found


def default_deny_namespaces(inv: Inventory) -> dict[str, set[str]]:
    """Namespace -> the directions ("Ingress", "Egress") a default-deny policy covers."""
    out: dict[str, set[str]] = {}
    for pol in inv.network_policies:
        if not pol.selects_all:
            continue
        if pol.governs_ingress and not pol.ingress:
            out.setdefault(pol.namespace, set()).add("Ingress")
        if pol.governs_egress and not pol.egress:
            out.setdefault(pol.namespace, set()).add("Egress")
    return out


def psa_labels(inv: Inventory, namespace: str) -> dict[str, str]:
    """The Pod Security Admission labels of a namespace (mode -> level), if declared."""
    res = inv.get(f"Namespace/{namespace}")
    if res is None:
        return {}
    prefix = "pod-security.kubernetes.io/"
    return {k[len(prefix):]: v for k, v in res.labels.items()
            if k.startswith(prefix) and not k.endswith("-version")}
