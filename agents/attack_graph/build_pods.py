"""The pod side of the graph: workloads, containers, host volumes, escapes, tokens, node pools.

A workload vertex stands for code execution in a pod of the workload; its containers are
reached from it. Escapes lead from a container to the node pools its pods may run on
(``Node/<pool>``), host mounts of the kubelet's directory to the tokens on those nodes
(``Node/<pool>#tokens``), a mounted token to the pod's service account, a cloud-identity
annotation to that cloud identity. From a node, the attacker holds the pods that may run on it
and the tokens on it. A data store's workload is a target (impact 5 with a sensitive
classification, else 4); node pools are targets (impact 5), cloud identities too (impact 4:
the cloud role's permissions are not in the manifests).
"""

from __future__ import annotations

from collections.abc import Iterable

from agents.attack_graph.evidence import Evidence, fingerprint
from agents.attack_graph.graph import AttackGraph, Step, Vertex
from agents.attack_graph.kinds import ATTACKS, AttackType, VertexKind
from agents.facts.admission_controls import Guard
from agents.facts.classification import SENSITIVE_CLASSES
from agents.facts.derived import Facts
from agents.facts.identity import automounts_token, cloud_identity
from agents.facts.placement import pool_vertex
from agents.facts.workloads import container_value, data_store, hostpath_volumes, is_runtime_socket
from workflow.domain.resources import Container, Workload

__all__ = ["add_pods", "cloud_vertex", "ensure_service_account", "workload_label"]

_TRAVERSE = frozenset({"/", "/var", "/var/lib", "/var/lib/kubelet", "/var/lib/kubelet/pods"})
_CORE_PATTERN = frozenset({"/", "/proc", "/proc/sys", "/proc/sys/kernel"})
_VAR_LOG = frozenset({"/", "/var", "/var/log"})
_HOST_READ = frozenset({"/", "/etc", "/root", "/home", "/proc", "/etc/kubernetes",
                        "/var/lib/kubelet"})
_HOST_WRITE = ("/etc", "/root", "/home", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/boot",
               "/var/lib/kubelet", "/var/spool", "/opt/cni", "/etc/kubernetes")


def workload_label(wl: Workload) -> str:
    """How a workload reads in a path."""
    return f"{wl.kind} {wl.namespace}/{wl.name}"


def cloud_vertex(value: str) -> str:
    """The vertex of a cloud identity."""
    return f"CloudIdentity/{value}"


def ensure_service_account(graph: AttackGraph, sa_id: str) -> None:
    """Add a service account's vertex."""
    _, namespace, name = ([*sa_id.split("/", 2), "", ""])[:3]
    graph.add_vertex(Vertex(sa_id, VertexKind.SERVICE_ACCOUNT, f"ServiceAccount {namespace}/"
                            f"{name}", namespace or None))


def _step(facts: Facts, graph: AttackGraph, source: str, target: str, attack: AttackType,
          condition: str, requires: tuple[str, ...], *, namespace: str,
          guards: Iterable[Guard] = (), likelihood: int | None = None,
          findings: tuple[str, ...] = ()) -> None:
    """Add a step, blocked or weakened by the admission controls of its namespace."""
    lik = likelihood if likelihood is not None else ATTACKS[attack].likelihood
    controls = facts.admission_controls
    guard_list = tuple(guards)
    blocked = controls.blocks(namespace, guard_list) if guard_list else None
    watching = tuple(dict.fromkeys(c.text for c in controls.watches(namespace, guard_list)))
    if watching and blocked is None:
        lik = max(1, lik - 1)
    graph.add_step(Step(source, target, attack, lik, condition,
                        tuple(dict.fromkeys((*requires, *findings))), requires, watching,
                        f"{blocked.text}: a pod with this setting is not admitted"
                        if blocked is not None else ""))


def _may_run_as_root(wl: Workload, container: Container) -> bool:
    user = container_value(wl, container, "runAsUser")
    return container_value(wl, container, "runAsNonRoot") is not True and not (
        isinstance(user, int) and user > 0)


def _capabilities(container: Container) -> set[str]:
    caps = container.security_context.get("capabilities")
    added = caps.get("add") if isinstance(caps, dict) else None
    return {str(c).upper().removeprefix("CAP_") for c in added} if isinstance(added, list) \
        else set()


def _escapes(facts: Facts, graph: AttackGraph, ev: Evidence, wl: Workload, container: Container,
             vertex: str, pools: tuple[str, ...]) -> None:
    """The container-escape steps of one container, to every pool it may run on."""
    ns = wl.namespace
    privileged = ev.present(fingerprint("controls.privileged-container", wl.id, container.name)) \
        if container.security_context.get("privileged") is True else ()
    host_pid = ev.present(fingerprint("controls.host-pid", wl.id)) \
        if wl.pod.flag("hostPID") else ()
    caps = _capabilities(container)
    cap_finding = ev.present(fingerprint("controls.capabilities-added", wl.id, container.name))
    for pool in pools:
        node = pool_vertex(pool)
        if privileged:
            _step(facts, graph, vertex, node, AttackType.CE_PRIV_MOUNT,
                  f"container {container.name} is privileged", privileged, namespace=ns,
                  guards=[Guard.PRIVILEGED])
            _step(facts, graph, vertex, node, AttackType.CE_MODULE_LOAD,
                  f"container {container.name} is privileged (all capabilities)", privileged,
                  namespace=ns, guards=[Guard.PRIVILEGED])
            if host_pid:
                _step(facts, graph, vertex, node, AttackType.CE_NSENTER,
                      f"container {container.name} is privileged and the pod shares the host "
                      "PID namespace", privileged + host_pid, namespace=ns,
                      guards=[Guard.PRIVILEGED, Guard.HOST_PID])
        if not privileged and cap_finding and {"SYS_MODULE", "ALL"} & caps:
            _step(facts, graph, vertex, node, AttackType.CE_MODULE_LOAD,
                  f"container {container.name} adds SYS_MODULE", cap_finding, namespace=ns,
                  guards=[Guard.CAPABILITIES])
        if host_pid and cap_finding and ({"SYS_PTRACE", "SYS_ADMIN"} <= caps or "ALL" in caps):
            _step(facts, graph, vertex, node, AttackType.CE_SYS_PTRACE,
                  f"hostPID and container {container.name} adds SYS_PTRACE and SYS_ADMIN",
                  host_pid + cap_finding, namespace=ns,
                  guards=[Guard.HOST_PID, Guard.CAPABILITIES])


def _mounts(wl: Workload, name: str) -> list[tuple[Container, bool]]:
    """(container, writable) for each container that mounts a volume."""
    out = []
    for container in wl.pod.containers:
        for mount in container.raw.get("volumeMounts") or []:
            if isinstance(mount, dict) and mount.get("name") == name:
                out.append((container, mount.get("readOnly") is not True))
    return out


def _host_writes(path: str) -> bool:
    return path in {"/", "/var", "/var/lib"} or any(
        path == p or path.startswith(p + "/") for p in _HOST_WRITE)


def _host_mounts(facts: Facts, graph: AttackGraph, ev: Evidence, wl: Workload,
                 pools: tuple[str, ...]) -> None:
    """The steps that host paths give: runtime sockets, host writes and reads, kubelet tokens."""
    ns = wl.namespace
    for _, volume, raw_path, _ in hostpath_volumes(wl):
        name = str(volume.get("name", ""))
        path = raw_path.rstrip("/") or "/"
        socket = is_runtime_socket(path)
        rule = "controls.container-runtime-socket" if socket else "controls.hostpath-mount"
        evidence = ev.present(fingerprint(rule, wl.id, name))
        if not evidence:
            continue
        for container, writable in _mounts(wl, name):
            source = f"{wl.id}#{container.name}"
            where = f"container {container.name} mounts host path {path}"
            for pool in pools:
                node = pool_vertex(pool)
                if socket:
                    _step(facts, graph, source, node, AttackType.EXPLOIT_CONTAINERD_SOCK,
                          f"{where} (a container runtime socket)", evidence, namespace=ns,
                          guards=[Guard.HOST_PATH])
                    continue
                if path in _TRAVERSE:
                    volume_id = f"{wl.id}#volume:{name}"
                    graph.add_vertex(Vertex(volume_id, VertexKind.VOLUME,
                                            f"host path {path} ({name})", ns))
                    _step(facts, graph, source, volume_id, AttackType.VOLUME_DISCOVER, where,
                          evidence, namespace=ns, guards=[Guard.HOST_PATH])
                    graph.add_step(Step(volume_id, f"{node}#tokens",
                                        AttackType.EXPLOIT_HOST_TRAVERSE, 5,
                                        f"{path} holds /var/lib/kubelet/pods: the tokens of the "
                                        "node's pods", evidence, evidence))
                if writable and path in _CORE_PATTERN:
                    _step(facts, graph, source, node, AttackType.CE_UMH_CORE_PATTERN,
                          f"{where}, writable (core_pattern)", evidence, namespace=ns,
                          guards=[Guard.HOST_PATH])
                if path in _VAR_LOG and _may_run_as_root(wl, container):
                    _step(facts, graph, source, node, AttackType.CE_VAR_LOG_SYMLINK,
                          f"{where} and may run as root", evidence, namespace=ns,
                          guards=[Guard.HOST_PATH])
                if writable and _host_writes(path):
                    _step(facts, graph, source, node, AttackType.EXPLOIT_HOST_WRITE,
                          f"{where}, writable", evidence, namespace=ns,
                          guards=[Guard.HOST_PATH])
                elif not writable and path in _HOST_READ:
                    _step(facts, graph, source, node, AttackType.EXPLOIT_HOST_READ,
                          f"{where}, read-only", evidence, namespace=ns,
                          guards=[Guard.HOST_PATH])


def _containers(facts: Facts, graph: AttackGraph, ev: Evidence, wl: Workload,
                pools: tuple[str, ...]) -> None:
    regular = []
    for container in wl.pod.containers:
        if container.kind == "ephemeral":
            continue
        vertex = f"{wl.id}#{container.name}"
        graph.add_vertex(Vertex(vertex, VertexKind.CONTAINER,
                                f"container {container.name} of {wl.namespace}/{wl.name}",
                                wl.namespace))
        init = container.kind == "init"
        graph.add_step(Step(wl.id, vertex, AttackType.CONTAINER_ATTACH, 2 if init else 5,
                            "an init container: it runs only when a pod starts" if init
                            else f"container {container.name} of the pod"))
        if not init:
            regular.append(vertex)
        _escapes(facts, graph, ev, wl, container, vertex, pools)
    if wl.pod.flag("shareProcessNamespace"):
        for source in regular:
            for target in regular:
                if source != target:
                    graph.add_step(Step(source, target, AttackType.SHARE_PS_NAMESPACE, 4,
                                        "the pod shares one process namespace"))


def _identity(graph: AttackGraph, ev: Evidence, facts: Facts, wl: Workload,
              pools: tuple[str, ...], every_node: bool) -> None:
    inv = facts.inventory
    sa = wl.service_account_id
    mounted = ev.present(fingerprint("identity.automount-with-rights", wl.id))
    if mounted and automounts_token(inv, wl):
        ensure_service_account(graph, sa)
        graph.add_step(Step(wl.id, sa, AttackType.TOKEN_STEAL, 5,
                            "the pod mounts the service account's token", mounted, mounted))
        for pool in pools:
            graph.add_step(Step(f"{pool_vertex(pool)}#tokens", sa, AttackType.TOKEN_STEAL,
                                5 if every_node else 2,
                                f"{wl.kind} {wl.name} runs on every node of the pool"
                                if every_node else f"a pod of {wl.kind} {wl.name} may run on "
                                "the node", mounted, mounted))
    found = cloud_identity(inv.get(sa))
    cloud = ev.present(fingerprint("identity.cloud-identity", sa))
    if found is None or not cloud:
        return
    key, value, text = found
    if key.startswith("azure.") and wl.pod.labels.get("azure.workload.identity/use") != "true":
        return
    vertex = cloud_vertex(value)
    graph.add_vertex(Vertex(vertex, VertexKind.CLOUD, f"{text} {value}", target="cloud",
                            impact=4))
    graph.add_step(Step(wl.id, vertex, AttackType.IDENTITY_ASSUME, 5,
                        f"{sa} is annotated {key}: its pods receive a token the cloud accepts",
                        cloud, cloud))


def add_pods(facts: Facts, graph: AttackGraph, ev: Evidence) -> None:
    """Add the workloads and everything that hangs off them."""
    placement = facts.placement
    for pool in placement.pools:
        node = pool_vertex(pool)
        graph.add_vertex(Vertex(node, VertexKind.NODE, f"a node of pool {pool}", target="node",
                                impact=5))
        graph.add_vertex(Vertex(f"{node}#tokens", VertexKind.NODE_TOKENS,
                                f"the service-account tokens on a node of pool {pool}"))
        graph.add_step(Step(node, f"{node}#tokens", AttackType.VOLUME_ACCESS, 5,
                            "root on the node reads every pod volume on it"))
    for wl in facts.inventory.workloads:
        if wl.kind == "PodTemplate":
            continue
        store = data_store(wl)
        level = facts.classification(wl.id)
        graph.add_vertex(Vertex(
            wl.id, VertexKind.WORKLOAD, workload_label(wl) + (f" ({store})" if store else ""),
            wl.namespace, target="data" if store else None,
            impact=(5 if level in SENSITIVE_CLASSES else 4) if store else 0))
        pools = placement.runs_on.get(wl.id, ())
        every = wl.id in placement.every_node
        _containers(facts, graph, ev, wl, pools)
        _host_mounts(facts, graph, ev, wl, pools)
        _identity(graph, ev, facts, wl, pools, every)
        for pool in pools:
            graph.add_step(Step(pool_vertex(pool), wl.id, AttackType.POD_ATTACH,
                                5 if every else 2,
                                "runs on every node of the pool" if every
                                else "may be scheduled on the node"))
