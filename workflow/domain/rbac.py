"""RBAC as the inventory sees it: rules, roles, subjects, bindings and grants."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from workflow.domain.resources import DomainModel, resource_id

__all__ = [
    "BUILTIN_CLUSTER_ROLES",
    "Binding",
    "Grant",
    "PolicyRule",
    "RoleView",
    "Subject",
]

class PolicyRule(DomainModel):
    """One RBAC policy rule."""

    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()
    pointer: str = ""


class RoleView(DomainModel):
    """A Role or ClusterRole with its effective rules (aggregation resolved)."""

    id: str
    kind: Literal["Role", "ClusterRole"]
    name: str
    namespace: str | None
    rules: tuple[PolicyRule, ...] = ()
    builtin: bool = False
    aggregated_from: tuple[str, ...] = ()


class Subject(DomainModel):
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


class Binding(DomainModel):
    """A RoleBinding or ClusterRoleBinding."""

    id: str
    kind: Literal["RoleBinding", "ClusterRoleBinding"]
    namespace: str | None
    role: str
    subjects: tuple[Subject, ...] = ()


class Grant(DomainModel):
    """A rule that a subject holds, with its scope and the binding that grants it."""

    subject: str
    role: str
    binding: str
    scope: str = Field(description="'cluster' or a namespace name.")
    rule: PolicyRule

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
