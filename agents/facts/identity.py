"""Who a workload is to the API and the cloud: service accounts, tokens, RBAC capabilities."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from workflow.domain.inventory import Inventory
from workflow.domain.rbac import Grant, PolicyRule
from workflow.domain.resources import Resource, Workload

__all__ = [
    "CLOUD_IDENTITY_ANNOTATIONS",
    "Capability",
    "automounts_token",
    "capabilities_of",
    "cloud_identity",
    "service_account",
]

CLOUD_IDENTITY_ANNOTATIONS: dict[str, str] = {
    "eks.amazonaws.com/role-arn": "AWS IAM role (EKS IRSA)",
    "iam.gke.io/gcp-service-account": "Google Cloud service account (GKE Workload Identity)",
    "azure.workload.identity/client-id": "Azure managed identity (Azure Workload Identity)",
}


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
    ("pods-patch", "patch running pods", ("patch", "update"), ("pods",), ("",)),
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
