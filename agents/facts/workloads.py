"""What a workload is and how its containers are configured.

Pure functions of one workload (or the inventory's workloads): the effective security-context
field of a container, hostPath volumes, and what a workload runs, recognised by image and
port: a data store, an admin interface, a logging agent, a runtime-security sensor.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from workflow.domain.inventory import Inventory
from workflow.domain.resources import Container, Workload

__all__ = [
    "ADMIN_UI_PORTS",
    "BASELINE_CAPABILITIES",
    "DATA_STORE_PORTS",
    "DEFAULT_CAPABILITIES",
    "RESTRICTED_VOLUME_TYPES",
    "RUNTIME_SOCKETS",
    "SAFE_SYSCTLS",
    "SENSITIVE_HOST_PATHS",
    "admin_interface",
    "container_value",
    "containers",
    "data_store",
    "holds_node",
    "hostpath_volumes",
    "image_name",
    "is_logging_agent",
    "is_runtime_security_agent",
    "is_runtime_socket",
    "is_sensitive_host_path",
    "runs_as_non_root",
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
    "elasticsearch-head", "cerebro", "kafdrop", "akhq", "spark-ui", "flower",
    # Argo Workflows' server and others of the same family: UIs that run or schedule code.
    "argocli", "argo-server", "argo-workflows-server", "tekton-dashboard", "spinnaker/deck",
    "rancher", "longhorn-ui", "hubble-ui", "kafka-ui", "redisinsight", "mlflow", "superset",
    "metabase", "chronograf", "cost-analyzer", "jupyterhub", "ray-dashboard")
#: admin / dashboard ports.
ADMIN_UI_PORTS: dict[int, str] = {
    15672: "RabbitMQ management", 5601: "Kibana", 3000: "Grafana", 9090: "Prometheus",
    9093: "Alertmanager", 16686: "Jaeger UI", 8443: "dashboard (HTTPS)", 20001: "Kiali",
    8081: "admin console", 9000: "admin console", 2746: "Argo Workflows server",
    8265: "Ray dashboard"}
_LOGGING_AGENTS = ("fluentd", "fluent-bit", "fluentbit", "filebeat", "logstash", "promtail",
                   "vector", "splunk", "datadog", "newrelic", "otel", "opentelemetry-collector",
                   "loki", "sumologic", "logdna", "elastic-agent", "stackdriver", "cloudwatch")
_RUNTIME_SECURITY = ("falco", "sysdig", "tetragon", "tracee", "aqua", "twistlock", "prisma",
                     "neuvector", "crowdstrike", "kubearmor", "stackrox", "deepfence")


#: Host paths that are (or contain) a container runtime's API socket.
RUNTIME_SOCKETS = (
    "/var/run/docker.sock", "/run/docker.sock", "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock", "/var/run/crio/crio.sock", "/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock", "/run/k3s/containerd/containerd.sock",
    "/var/run/containerd", "/run/containerd", "/var/run/crio", "/run/crio", "/var/run/docker",
    "/var/run", "/run")


def is_runtime_socket(path: str) -> bool:
    """True when a host path is a runtime socket or a directory that holds one."""
    clean = path.rstrip("/") or "/"
    return clean in RUNTIME_SOCKETS or clean.endswith((".sock", "/docker.sock"))


def image_name(image: str) -> str:
    """An image reference without its digest, lower case."""
    return image.split("@", 1)[0].lower()


def containers(inv: Inventory) -> Iterator[tuple[Workload, Container]]:
    """Every (workload, container) pair, init and ephemeral containers included."""
    for wl in inv.workloads:
        for container in wl.pod.containers:
            yield wl, container


#: Host paths (and their subtrees) that give access to node credentials or control.
SENSITIVE_HOST_PATHS = ("/", "/etc", "/root", "/home", "/var/lib/kubelet", "/var/lib/docker",
                        "/var/lib/containerd", "/var/lib/etcd", "/etc/kubernetes", "/proc",
                        "/sys", "/boot", "/dev", "/lib/modules", "/usr", "/bin", "/sbin",
                        "/var/log", "/var/lib")


def is_sensitive_host_path(path: str) -> bool:
    """True when a host path is, or lies under, a sensitive node location."""
    clean = path.rstrip("/") or "/"
    if clean == "/":
        return True
    # A mount of a parent (/var) holds the sensitive paths below it (/var/lib/kubelet).
    return any(clean == p or clean.startswith(p + "/") or p.startswith(clean + "/")
               for p in SENSITIVE_HOST_PATHS if p != "/")


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


def runs_as_non_root(wl: Workload, container: Container | None = None) -> bool:
    """True when the container (or, without one, every container) provably runs as non-root.

    Provably means runAsNonRoot: true or a non-zero runAsUser, in the container or the pod,
    and not privileged.
    """
    items = [container] if container is not None else list(wl.pod.containers)
    for item in items:
        user = container_value(wl, item, "runAsUser")
        forced = container_value(wl, item, "runAsNonRoot") is True
        if user == 0 or not (forced or (isinstance(user, int) and user > 0)) \
                or item.security_context.get("privileged") is True:
            return False
    return bool(items)


def holds_node(wl: Workload) -> bool:
    """True when code in the workload is root on its node.

    That is: a privileged container, host PID as root, the runtime socket, or a writable
    sensitive host path.
    """
    if any(c.security_context.get("privileged") is True for c in wl.pod.containers):
        return True
    if wl.pod.flag("hostPID") and not runs_as_non_root(wl):
        return True
    return any(is_runtime_socket(path) or (is_sensitive_host_path(path) and writable)
               for _, _, path, writable in hostpath_volumes(wl))


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
        name = image_name(container.image).rsplit("/", 1)[-1]
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
        name = image_name(container.image)
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
    """True when a workload ships logs (fluentd, Fluent Bit, ...), by image or DaemonSet name."""
    if wl.kind == "DaemonSet" and any(a in wl.name.lower() for a in _LOGGING_AGENTS):
        return True
    return any(any(a in image_name(c.image) for a in _LOGGING_AGENTS) for c in wl.pod.containers)


def is_runtime_security_agent(wl: Workload) -> bool:
    """True when a workload is a runtime-security sensor (Falco, Sysdig, Tetragon, ...)."""
    return any(any(a in image_name(c.image) for a in _RUNTIME_SECURITY)
               for c in wl.pod.containers)
