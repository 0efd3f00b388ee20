"""Positive controls the reviewer credits: policy engines, default-deny policies, PSA labels."""

from __future__ import annotations

from agents.facts.workloads import image_name
from workflow.domain.inventory import Inventory

__all__ = [
    "application_namespaces",
    "default_deny_namespaces",
    "policy_engines",
    "psa_labels",
]

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
                if fragment in image_name(container.image):
                    found.setdefault(engine, wl.id)
    return found


#: Namespaces Kubernetes creates for itself; judged only when workloads are placed in them.
_SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})


def application_namespaces(inv: Inventory, *, pod_network: bool = False) -> list[str]:
    """Namespaces that run workloads or that the manifests declare, sorted.

    A platform repository often only declares namespaces; Kubernetes' own are judged only when
    workloads are placed in them. ``pod_network`` counts only workloads on the pod network
    (NetworkPolicy does not govern host-network pods).
    """
    running = {wl.namespace for wl in inv.workloads if wl.kind != "PodTemplate"
               and not (pod_network and wl.pod.flag("hostNetwork"))}
    declared = {r.name for r in inv.of_kind("Namespace") if r.name not in _SYSTEM_NAMESPACES}
    return sorted(running | declared)


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
