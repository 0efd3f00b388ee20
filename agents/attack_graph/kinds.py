"""The vocabulary of the attack graph: attack types, vertex kinds, origins and targets.

The attack types are KubeHound's 26 (same names, same meaning) plus the few steps KubeHound
does not name that manifests show (routing from the internet, RBAC grants that amount to
control of a scope, ``nodes/proxy``, token requests, webhook and CSR rights). Each has a default
likelihood on the 1-5 scale: 5 when the step follows from the previous one (a token is
mounted, a grant is used), 4 for a well-known technique that needs no vulnerability (an escape
from a privileged container), 3 when it needs an exploit or extra work (a vulnerability in an
exposed service), 2 when it holds only under conditions the manifests do not show (a pod that
may or may not share the attacker's node). ``docs/ATTACKS.md`` is generated from
:data:`ATTACKS` (``python -m agents.attack_graph > docs/ATTACKS.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ATTACKS",
    "AttackInfo",
    "AttackType",
    "Coverage",
    "VertexKind",
]


class AttackType(StrEnum):
    """An attack step's type."""

    CE_MODULE_LOAD = "CE_MODULE_LOAD"
    CE_NSENTER = "CE_NSENTER"
    CE_PRIV_MOUNT = "CE_PRIV_MOUNT"
    CE_SYS_PTRACE = "CE_SYS_PTRACE"
    CE_UMH_CORE_PATTERN = "CE_UMH_CORE_PATTERN"
    CE_VAR_LOG_SYMLINK = "CE_VAR_LOG_SYMLINK"
    CONTAINER_ATTACH = "CONTAINER_ATTACH"
    ENDPOINT_EXPLOIT = "ENDPOINT_EXPLOIT"
    EXPLOIT_CONTAINERD_SOCK = "EXPLOIT_CONTAINERD_SOCK"
    EXPLOIT_HOST_READ = "EXPLOIT_HOST_READ"
    EXPLOIT_HOST_TRAVERSE = "EXPLOIT_HOST_TRAVERSE"
    EXPLOIT_HOST_WRITE = "EXPLOIT_HOST_WRITE"
    IDENTITY_ASSUME = "IDENTITY_ASSUME"
    IDENTITY_IMPERSONATE = "IDENTITY_IMPERSONATE"
    PERMISSION_DISCOVER = "PERMISSION_DISCOVER"
    POD_ATTACH = "POD_ATTACH"
    POD_CREATE = "POD_CREATE"
    POD_EXEC = "POD_EXEC"
    POD_PATCH = "POD_PATCH"
    ROLE_BIND = "ROLE_BIND"
    SHARE_PS_NAMESPACE = "SHARE_PS_NAMESPACE"
    TOKEN_BRUTEFORCE = "TOKEN_BRUTEFORCE"  # noqa: S105 - an attack type, not a password
    TOKEN_LIST = "TOKEN_LIST"  # noqa: S105 - an attack type, not a password
    TOKEN_STEAL = "TOKEN_STEAL"  # noqa: S105 - an attack type, not a password
    VOLUME_ACCESS = "VOLUME_ACCESS"
    VOLUME_DISCOVER = "VOLUME_DISCOVER"
    # Steps KubeHound does not name.
    ROUTE = "ROUTE"
    RBAC_ADMIN = "RBAC_ADMIN"
    NODES_PROXY = "NODES_PROXY"
    TOKEN_REQUEST = "TOKEN_REQUEST"  # noqa: S105 - an attack type, not a password
    WEBHOOK_WRITE = "WEBHOOK_WRITE"
    CSR_APPROVE = "CSR_APPROVE"
    CONFIGMAP_WRITE = "CONFIGMAP_WRITE"
    PV_HOSTPATH = "PV_HOSTPATH"
    POD_PORTFORWARD = "POD_PORTFORWARD"
    NETPOL_WRITE = "NETPOL_WRITE"
    TRAFFIC_REDIRECT = "TRAFFIC_REDIRECT"


class VertexKind(StrEnum):
    """What a vertex of the attack graph stands for."""

    INTERNET = "internet"
    ENTRY = "entry"
    WORKLOAD = "workload"
    CONTAINER = "container"
    VOLUME = "volume"
    SERVICE_ACCOUNT = "serviceaccount"
    USER = "user"
    GROUP = "group"
    BINDING = "binding"
    ROLE = "role"
    SECRETS = "secrets"
    NAMESPACE = "namespace"
    NODE = "node"
    NODE_TOKENS = "node-tokens"
    CLOUD = "cloud"
    CLUSTER = "cluster"
    #: Shared vertices that stand for many pairs (the pod network, a policy rule, every pod
    #: of a namespace): a path shows the step through them as one hop.
    NETWORK = "network"
    SCOPE = "scope"


class Coverage(StrEnum):
    """How much of an attack type manifests decide."""

    COVERED = "covered"
    PARTLY = "covered in part"
    NOT_DECIDABLE = "not decidable from manifests"


@dataclass(frozen=True)
class AttackInfo:
    """What an attack type is and how the graph decides it."""

    name: str
    likelihood: int
    coverage: Coverage
    edge: str
    decided: str
    kubehound: bool = True


ATTACKS: dict[AttackType, AttackInfo] = {
    AttackType.CE_MODULE_LOAD: AttackInfo(
        "Load a kernel module", 3, Coverage.COVERED, "container -> Node/<pool>",
        "A container that is privileged or adds SYS_MODULE (evidence: "
        "controls.privileged-container or controls.capabilities-added). Rated 3: the module "
        "must be built for the node's kernel, more work than mounting its disk."),
    AttackType.CE_NSENTER: AttackInfo(
        "nsenter into the host's namespaces", 5, Coverage.COVERED, "container -> Node/<pool>",
        "A privileged container in a pod with hostPID (both findings required)."),
    AttackType.CE_PRIV_MOUNT: AttackInfo(
        "Mount the host's disk", 4, Coverage.COVERED, "container -> Node/<pool>",
        "A privileged container (controls.privileged-container)."),
    AttackType.CE_SYS_PTRACE: AttackInfo(
        "Attach to a host process with ptrace", 4, Coverage.COVERED,
        "container -> Node/<pool>",
        "hostPID and a container that adds SYS_PTRACE and SYS_ADMIN."),
    AttackType.CE_UMH_CORE_PATTERN: AttackInfo(
        "Rewrite core_pattern through a host /proc mount", 4, Coverage.COVERED,
        "container -> Node/<pool>",
        "A writable hostPath of /proc/sys/kernel or a parent of it (controls.hostpath-mount)."),
    AttackType.CE_VAR_LOG_SYMLINK: AttackInfo(
        "Read host files through a /var/log symlink", 3, Coverage.PARTLY,
        "container -> Node/<pool>",
        "A hostPath of /var/log or a parent in a container that may run as root. Whether the "
        "attacker can also read the pod's logs through the kubelet is RBAC outside the "
        "manifests, so the step is rated 3."),
    AttackType.CONTAINER_ATTACH: AttackInfo(
        "Reach a container of a pod one controls", 5, Coverage.COVERED,
        "workload -> container", "Every container of a running workload."),
    AttackType.ENDPOINT_EXPLOIT: AttackInfo(
        "Exploit a reachable endpoint", 3, Coverage.PARTLY,
        "entry -> workload, workload -> workload",
        "A port the target declares (container port or Service target port) that the "
        "NetworkPolicies let the source reach (rule ports, pod and namespace selectors, "
        "ipBlock, ingress and egress, default deny). Whether the service behind the port is "
        "exploitable is not in the manifests (as in KubeHound, the edge marks the exposure); "
        "4 towards a data store whose credentials the source holds."),
    AttackType.EXPLOIT_CONTAINERD_SOCK: AttackInfo(
        "Use a mounted container-runtime socket", 4, Coverage.COVERED,
        "container -> Node/<pool>",
        "A hostPath of a runtime socket (docker, containerd, CRI-O, cri-dockerd) "
        "(controls.container-runtime-socket). KubeHound's edge goes to the node's other "
        "containers; the runtime also starts a privileged container, so the step reaches the "
        "node."),
    AttackType.EXPLOIT_HOST_READ: AttackInfo(
        "Read secrets from a sensitive host mount", 3, Coverage.PARTLY,
        "container -> Node/<pool>",
        "A read-only hostPath of /, /etc, /root, /home, /proc, /etc/kubernetes or "
        "/var/lib/kubelet. Whether the node accepts SSH or the read credentials grant more is "
        "not in the manifests, so the step is rated 3."),
    AttackType.EXPLOIT_HOST_TRAVERSE: AttackInfo(
        "Steal tokens through a kubelet host mount", 5, Coverage.COVERED,
        "volume -> Node/<pool>#tokens",
        "A hostPath of /var/lib/kubelet/pods or a parent of it, even read-only."),
    AttackType.EXPLOIT_HOST_WRITE: AttackInfo(
        "Write to a sensitive host mount", 4, Coverage.COVERED, "container -> Node/<pool>",
        "A writable hostPath of /, /etc, /root, /usr, /bin, /sbin, /lib, /boot, /var, "
        "/var/lib/kubelet, /etc/kubernetes, /home or /var/spool (controls.hostpath-mount)."),
    AttackType.IDENTITY_ASSUME: AttackInfo(
        "Act as an identity", 5, Coverage.PARTLY,
        "workload -> CloudIdentity, scope -> service account",
        "A pod of a service account annotated for IRSA, GKE or Azure Workload Identity holds "
        "that cloud identity (identity.cloud-identity); creating pods or tokens in a namespace "
        "gives its service accounts. The node's own kubelet identity is not modelled: what "
        "the Node authorizer lets it do is decided outside the manifests."),
    AttackType.IDENTITY_IMPERSONATE: AttackInfo(
        "Impersonate a user, group or service account", 5, Coverage.COVERED,
        "subject -> cluster | service accounts",
        "impersonate on users or groups cluster-wide (any group, system:masters included) or on "
        "serviceaccounts (identity.escalation-verbs, identity.human-broad-rights)."),
    AttackType.PERMISSION_DISCOVER: AttackInfo(
        "Learn the permissions one holds", 5, Coverage.COVERED,
        "subject -> binding -> role",
        "Every binding of a subject. The graph shows these edges; a path's RBAC step names the "
        "binding directly, so they are no step of a path."),
    AttackType.POD_ATTACH: AttackInfo(
        "Take over the pods of a node", 2, Coverage.PARTLY, "Node/<pool> -> workload",
        "The workloads that may run on the pool: 5 for DaemonSets (on every node), 2 for "
        "others (which node a pod lands on is decided by the scheduler)."),
    AttackType.POD_CREATE: AttackInfo(
        "Create a privileged pod, or a pod that runs as a service account", 4,
        Coverage.COVERED, "subject -> Node/<pool> | service accounts",
        "create on pods or pod-making workloads (identity.create-workloads); blocked by an "
        "enforcing admission control that stops privileged pods, host namespaces and host "
        "paths in the scope."),
    AttackType.POD_EXEC: AttackInfo(
        "Exec into a running pod", 5, Coverage.COVERED, "subject -> workload",
        "create/get on pods/exec or pods/attach (identity.pod-exec); blocked by an enforcing "
        "policy that denies exec in the namespace."),
    AttackType.POD_PATCH: AttackInfo(
        "Patch a running pod's image", 4, Coverage.COVERED, "subject -> workload",
        "patch or update on pods."),
    AttackType.ROLE_BIND: AttackInfo(
        "Bind oneself a more powerful role", 5, Coverage.COVERED,
        "subject -> cluster | namespace",
        "bind, escalate or write on roles and bindings (identity.escalation-verbs)."),
    AttackType.SHARE_PS_NAMESPACE: AttackInfo(
        "Reach a container through a shared process namespace", 4, Coverage.COVERED,
        "container -> container", "shareProcessNamespace: true."),
    AttackType.TOKEN_BRUTEFORCE: AttackInfo(
        "Guess the names of Secrets one may get", 2, Coverage.PARTLY,
        "subject -> Secrets", "get without list on secrets (identity.secrets-read). The names "
        "to guess are not all in the manifests, so the step is rated 2."),
    AttackType.TOKEN_LIST: AttackInfo(
        "List Secrets, service-account tokens included", 5, Coverage.COVERED,
        "subject -> Secrets -> service account",
        "list/watch on secrets (identity.secrets-read); the service accounts whose long-lived "
        "token Secrets the manifests declare."),
    AttackType.TOKEN_STEAL: AttackInfo(
        "Steal a service-account token", 5, Coverage.COVERED,
        "workload | Node/<pool>#tokens -> service account",
        "An automounted token of a service account with rights "
        "(identity.automount-with-rights), in the pod or on its node."),
    AttackType.VOLUME_ACCESS: AttackInfo(
        "Read the volumes of a node's pods", 5, Coverage.COVERED,
        "Node/<pool> -> Node/<pool>#tokens", "Root on a node reads every pod volume on it."),
    AttackType.VOLUME_DISCOVER: AttackInfo(
        "Find the host volumes a container mounts", 5, Coverage.COVERED,
        "container -> volume", "A hostPath volume the container mounts."),
    AttackType.ROUTE: AttackInfo(
        "Reach an entry point", 5, Coverage.COVERED,
        "internet -> Ingress | Gateway | Service -> Service",
        "A public LoadBalancer (network.loadbalancer-service), external IPs "
        "(network.external-ips), an Ingress or a gateway route, and the Service it routes to.",
        kubehound=False),
    AttackType.RBAC_ADMIN: AttackInfo(
        "Hold every right in a scope", 5, Coverage.COVERED, "subject -> cluster | namespace",
        "All verbs on all resources (identity.cluster-admin).", kubehound=False),
    AttackType.NODES_PROXY: AttackInfo(
        "Run commands in any pod through the kubelet API", 5, Coverage.COVERED,
        "subject -> every pod", "get/create on nodes/proxy (identity.nodes-proxy).",
        kubehound=False),
    AttackType.TOKEN_REQUEST: AttackInfo(
        "Mint a token for a service account", 5, Coverage.COVERED,
        "subject -> service accounts | CloudIdentity",
        "create on serviceaccounts/token (identity.escalation-verbs), also with the audience a "
        "cloud identity accepts.", kubehound=False),
    AttackType.WEBHOOK_WRITE: AttackInfo(
        "Register an admission webhook", 5, Coverage.COVERED, "subject -> cluster",
        "Write on webhook configurations cluster-wide (identity.webhook-write).",
        kubehound=False),
    AttackType.CSR_APPROVE: AttackInfo(
        "Approve a certificate for any identity", 4, Coverage.COVERED, "subject -> cluster",
        "Approval of certificate signing requests (identity.escalation-verbs).",
        kubehound=False),
    AttackType.CONFIGMAP_WRITE: AttackInfo(
        "Rewrite a ConfigMap that controls the cluster", 4, Coverage.PARTLY,
        "subject -> cluster",
        "Write on configmaps cluster-wide, in kube-system, or on aws-auth or coredns by name "
        "(identity.configmap-write): on EKS aws-auth maps an IAM identity to system:masters; "
        "elsewhere CoreDNS's configuration redirects every name in the cluster. Rated 4: "
        "which of the two the cluster has is not in the manifests.", kubehound=False),
    AttackType.PV_HOSTPATH: AttackInfo(
        "Claim a host path through a PersistentVolume", 4, Coverage.COVERED,
        "subject -> Node/<pool>",
        "create on persistentvolumes (identity.persistent-volume-create) and on pods or "
        "pod-making workloads somewhere: a hostPath PersistentVolume claimed by a pod mounts "
        "the node's disk, and Pod Security Admission, which checks the pod's own volumes, "
        "does not stop it.", kubehound=False),
    AttackType.POD_PORTFORWARD: AttackInfo(
        "Port-forward to a pod past its NetworkPolicies", 5, Coverage.COVERED,
        "subject -> Ports/<scope> -> workload",
        "create on pods/portforward (identity.network-control): the API server's tunnel "
        "reaches every declared port of the scope's pods whatever the policies say; exploiting "
        "the endpoint is the next step (ENDPOINT_EXPLOIT).",
        kubehound=False),
    AttackType.NETPOL_WRITE: AttackInfo(
        "Lift a pod's network isolation", 5, Coverage.COVERED,
        "subject -> Ports/<scope> -> workload",
        "Write on NetworkPolicies (networking.k8s.io or Cilium) in the scope "
        "(identity.network-control): an allow-all policy opens every pod of the scope to the "
        "attacker's pod; exploiting the endpoint is the next step (ENDPOINT_EXPLOIT).",
        kubehound=False),
    AttackType.TRAFFIC_REDIRECT: AttackInfo(
        "Redirect a data store's Service to a pod one controls", 3, Coverage.PARTLY,
        "subject -> workload (data store)",
        "Write on services, endpoints or endpointslices in the scope "
        "(identity.network-control): the Service's clients then send their requests and "
        "credentials to the attacker, who replays them to the data store. Rated 3: it needs "
        "a pod to receive the traffic and clients that send credentials. Deleting Events or "
        "webhook configurations (identity.defense-evasion) covers tracks and removes policy "
        "but reaches no target: it is no step.", kubehound=False),
}
