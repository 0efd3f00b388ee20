"""Who a workload is to the API and the cloud: service accounts, tokens, RBAC capabilities.

A **capability** is a dangerous ability an RBAC grant gives a subject in a scope (a namespace
or the cluster), keyed for the rules and the attack graph (each key is an edge from the subject
to what the ability reaches):

- ``cluster-admin``: do anything (all verbs on all resources);
- ``secrets-read``; ``pods-exec``, ``pods-attach``, ``pods-portforward`` (into any pod's ports,
  past NetworkPolicy); ``create-pods``, ``create-workloads``; ``token-request``;
  ``impersonate``; ``nodes-proxy`` (the kubelet API);
- ``escalate`` (the escalate verb and writes of roles), ``bind`` (the bind verb and writes of
  bindings), ``csr-approve`` (approval updates and approve on a signer): each needs both rules,
  as the API server does; ``rbac-write`` alone grants no more than the writer holds;
- ``webhook-write`` and ``webhook-delete`` (admission policy), ``configmaps-write`` (CoreDNS's
  configuration, EKS's ``aws-auth``: cluster admin there), ``services-write`` and
  ``endpoints-write`` (traffic interception, external IPs), ``networkpolicies-write`` (lifting
  isolation), ``pv-create`` (a hostPath PersistentVolume onto a node), ``events-delete``
  (covering tracks).

A grant narrowed by ``resourceNames`` gives the ability over those objects only
(:attr:`Capability.names`); ClusterRole aggregation is resolved by the inventory.
"""

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
    """A dangerous ability that an RBAC grant gives, and the grant that gives it.

    ``names`` are the grant's ``resourceNames`` when they narrow it to named objects (the
    ability then covers only those); empty means every object in the scope.
    """

    key: str
    label: str
    grant: Grant
    names: tuple[str, ...] = ()


def _covers(rule: PolicyRule, verbs: Iterable[str], resources: Iterable[str],
            groups: Iterable[str]) -> bool:
    """True when a rule grants one of ``verbs`` on one of ``resources`` in one of ``groups``.

    resourceNames do not decide coverage here: they narrow it (:attr:`Capability.names`).
    """
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
_RBAC = ("rbac.authorization.k8s.io",)
_ROLES = ("roles", "clusterroles")
_BINDINGS = ("rolebindings", "clusterrolebindings")
_WEBHOOKS = ("mutatingwebhookconfigurations", "validatingwebhookconfigurations")
#: key, label, verbs, resources, API groups: abilities that one rule gives.
_CAPABILITIES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ("secrets-read", "read Secrets", ("get", "list", "watch"), ("secrets",), ("",)),
    ("pods-exec", "exec into pods", ("create", "get"), ("pods/exec",), ("",)),
    ("pods-attach", "attach to pods", ("create", "get"), ("pods/attach",), ("",)),
    ("pods-portforward", "port-forward to pods (past NetworkPolicy)", ("create", "get"),
     ("pods/portforward",), ("",)),
    ("create-pods", "create pods", ("create",), ("pods",), ("",)),
    ("pods-patch", "patch running pods", ("patch", "update"), ("pods",), ("",)),
    ("create-workloads", "create workloads", _WRITE,
     ("deployments", "daemonsets", "statefulsets", "replicasets", "jobs", "cronjobs",
      "replicationcontrollers"), ("apps", "batch", "", "extensions")),
    ("impersonate", "impersonate users, groups or service accounts", ("impersonate",),
     ("users", "groups", "serviceaccounts", "uids", "userextras/*"),
     ("", "authentication.k8s.io")),
    ("token-request", "mint service-account tokens", ("create",), ("serviceaccounts/token",),
     ("",)),
    ("nodes-proxy", "reach the kubelet API through nodes/proxy", ("get", "create"),
     ("nodes/proxy",), ("",)),
    ("webhook-write", "write admission webhook configurations", _WRITE, _WEBHOOKS,
     ("admissionregistration.k8s.io",)),
    ("webhook-delete", "delete admission webhook configurations (remove policy)",
     ("delete", "deletecollection"), _WEBHOOKS, ("admissionregistration.k8s.io",)),
    ("rbac-write", "write RBAC roles and bindings (no more than the rights it holds)", _WRITE,
     (*_ROLES, *_BINDINGS), _RBAC),
    ("pv-create", "create PersistentVolumes (a hostPath onto any node)", ("create",),
     ("persistentvolumes",), ("",)),
    ("configmaps-write", "write ConfigMaps", _WRITE, ("configmaps",), ("",)),
    ("services-write", "create or change Services (redirect traffic, claim external IPs)",
     _WRITE, ("services",), ("",)),
    ("endpoints-write", "write Endpoints (redirect a Service's traffic)", _WRITE,
     ("endpoints", "endpointslices"), ("", "discovery.k8s.io")),
    ("networkpolicies-write", "write NetworkPolicies (lift isolation)", _WRITE,
     ("networkpolicies", "ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies"),
     ("networking.k8s.io", "cilium.io")),
    ("events-delete", "delete Events (cover tracks)", ("delete", "deletecollection"),
     ("events",), ("", "events.k8s.io")),
)
#: key, label, (verbs, resources, groups) of the ability, (verbs, resources, groups) it needs
#: beside it in the same scope: abilities that only a pair of rules gives.
_PAIRED: tuple[tuple[str, str, tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]],
               ...] = (
    ("escalate", "write roles with rights it does not hold (escalate)",
     (("escalate",), _ROLES, _RBAC), (_WRITE, _ROLES, _RBAC)),
    ("bind", "bind roles with rights it does not hold (bind)",
     (("bind",), _ROLES, _RBAC), (_WRITE, _BINDINGS, _RBAC)),
    ("csr-approve", "approve certificate signing requests",
     (("update", "patch"), ("certificatesigningrequests/approval",), ("certificates.k8s.io",)),
     (("approve",), ("signers",), ("certificates.k8s.io",))),
)

_ADMIN_VERBS = frozenset({"get", "list", "create", "update", "patch", "delete"})


def _is_admin_rule(rule: PolicyRule) -> bool:
    """All resources in all groups with every verb, or every read and write verb."""
    if rule.resource_names or "*" not in rule.resources or "*" not in rule.api_groups:
        return False
    return "*" in rule.verbs or _ADMIN_VERBS <= set(rule.verbs)


def _in_scope(grant: Grant, scope: str) -> bool:
    """A grant applies in ``scope``: its own, or any scope for a cluster-wide grant."""
    return grant.scope in {scope, "cluster"}


def capabilities_of(grants: Iterable[Grant]) -> list[Capability]:
    """The dangerous abilities that a subject's grants give (first grant per ability/scope).

    Kubernetes' own rules decide: resourceNames narrow a grant to named objects; writing RBAC
    objects cannot grant more than the writer holds unless it may also escalate (to write
    roles) or bind (to write bindings); approving a certificate signing request needs approve
    on its signer besides updates of the approval.
    """
    held = list(grants)
    out: dict[tuple[str, str, tuple[str, ...]], Capability] = {}
    for grant in held:
        names = grant.rule.resource_names
        if _is_admin_rule(grant.rule):
            out.setdefault(("cluster-admin", grant.scope, ()), Capability(
                "cluster-admin", "do anything (all verbs on all resources)", grant))
        for key, label, verbs, resources, groups in _CAPABILITIES:
            if _covers(grant.rule, verbs, resources, groups):
                out.setdefault((key, grant.scope, names), Capability(key, label, grant, names))
        for key, label, (verbs, resources, groups), need in _PAIRED:
            if _covers(grant.rule, verbs, resources, groups) and any(
                    _covers(other.rule, *need) and _in_scope(other, grant.scope)
                    for other in held):
                out.setdefault((key, grant.scope, names), Capability(key, label, grant, names))
    return sorted(out.values(), key=lambda c: (c.key, c.grant.scope, c.grant.binding, c.names))
