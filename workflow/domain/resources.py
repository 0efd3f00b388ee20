"""The resources of an inventory: Kubernetes objects and their typed views.

Every resource is addressed by ``Kind/namespace/name`` (cluster-scoped kinds: ``Kind/name``);
namespaced resources without a namespace are in ``default``. Values are already redacted by
:mod:`workflow.domain.inputs`: no secret value is ever held here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflow.domain.selectors import selector_is_empty

__all__ = [
    "CLUSTER_SCOPED_KINDS",
    "WORKLOAD_KINDS",
    "Container",
    "DomainModel",
    "Edge",
    "Ingress",
    "IngressBackend",
    "NetworkPolicy",
    "PodSpec",
    "Resource",
    "SecretValue",
    "Service",
    "SourceRef",
    "Workload",
    "dig",
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
    "CertificateSigningRequest", "AuditSink", "CiliumClusterwideNetworkPolicy",
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


#: A well-formed image digest: algorithm and hex of the right length.
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128}")


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


def dig(data: Any, path: str) -> Any:
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

class DomainModel(BaseModel):
    """A frozen, strict model of the domain."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

class SourceRef(DomainModel):
    """Where a resource was read: file, document index in the file, first line (1-based)."""

    file: str
    document: int = 0
    line: int | None = None


class SecretValue(DomainModel):
    """A secret value found at load time: where, why, a keyed fingerprint, and its shape.

    The shape (``private key``, ``token``, ``default``, ...; see
    :func:`workflow.domain.value_shapes.value_shape`) is all that is known of the value itself.
    """

    resource: str | None
    file: str
    path: str
    reason: str
    fingerprint: str
    location: Literal["secret", "env", "args", "command", "configmap", "annotation", "label",
                      "other"] = "other"
    shape: str = ""


class Resource(DomainModel):
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
        return dig(self.raw, path)


class Container(DomainModel):
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
        """The digest the image is pinned to, if any (a malformed one pins nothing)."""
        digest = self.image.split("@", 1)[1] if "@" in self.image else None
        return digest if digest is not None and _DIGEST.fullmatch(digest) else None

    @property
    def malformed_digest(self) -> str | None:
        """What follows ``@`` when it is not a well-formed digest (``sha256:abc``), or None."""
        digest = self.image.split("@", 1)[1] if "@" in self.image else None
        return digest if digest is not None and not _DIGEST.fullmatch(digest) else None

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


class PodSpec(DomainModel):
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


class Workload(DomainModel):
    """A resource that runs pods."""

    id: str
    kind: str
    name: str
    namespace: str
    pod: PodSpec
    service_account_id: str


class IngressBackend(DomainModel):
    """One route of an Ingress to a Service."""

    host: str | None
    path: str | None
    service: str
    port: str | None
    pointer: str


class Ingress(DomainModel):
    """An Ingress and where it routes."""

    id: str
    namespace: str
    backends: tuple[IngressBackend, ...] = ()
    tls_hosts: tuple[str, ...] = ()
    has_tls: bool = False


class Service(DomainModel):
    """A Service and the workloads it selects."""

    id: str
    namespace: str
    type: str
    selector: dict[str, str] = Field(default_factory=dict)
    ports: tuple[dict[str, Any], ...] = ()
    targets: tuple[str, ...] = ()
    external_ips: tuple[str, ...] = ()


class NetworkPolicy(DomainModel):
    """A NetworkPolicy and the workloads it selects in its own namespace.

    Cilium's policies are read into the same shape (:mod:`workflow.domain.cilium`): ``kind``
    says which, ``pointer`` is where the spec sits in the object and ``ingress_paths`` /
    ``egress_paths`` where each translated rule came from.
    """

    id: str
    namespace: str
    kind: str = "NetworkPolicy"
    pod_selector: dict[str, Any] = Field(default_factory=dict)
    policy_types: tuple[str, ...] = ()
    ingress: tuple[dict[str, Any], ...] = ()
    egress: tuple[dict[str, Any], ...] = ()
    targets: tuple[str, ...] = ()
    pointer: str = "/spec"
    ingress_paths: tuple[str, ...] = ()
    egress_paths: tuple[str, ...] = ()

    def rule_pointer(self, direction: str, index: int) -> str:
        """The JSON pointer of the ``index``-th ingress or egress rule in the source object."""
        paths = self.ingress_paths if direction == "ingress" else self.egress_paths
        return paths[index] if index < len(paths) else f"{self.pointer}/{direction}/{index}"

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

class Edge(DomainModel):
    """A relation between two resources."""

    source: str
    target: str
    kind: Literal["exposes", "routes", "selects", "binds", "grants", "mounts", "runs-as",
                  "references", "owns"]
