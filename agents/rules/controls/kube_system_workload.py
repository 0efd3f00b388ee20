"""Application workloads placed in kube-system."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import image_name, is_logging_agent
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "SYSTEM_ADDONS", "evaluate"]

#: Image name fragments of the add-ons that belong in kube-system (DNS, proxy, CNI, CSI, cloud
#: controllers, autoscalers, metrics, node agents of managed clusters).
SYSTEM_ADDONS = (
    "coredns", "kube-dns", "k8s-dns", "dns-node-cache", "kube-proxy", "metrics-server",
    "cluster-autoscaler", "cluster-proportional", "amazon-k8s-cni", "aws-node",
    "aws-load-balancer-controller", "ebs-csi", "efs-csi", "csi-", "-csi", "calico", "cilium",
    "flannel", "weave-kube", "weave-npc", "kube-router", "antrea", "konnectivity",
    "kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "pause",
    "cloud-controller-manager", "snapshot-controller", "secrets-store", "ip-masq-agent",
    "event-exporter", "prometheus-to-sd", "ingress-gce", "addon-manager", "azure", "gke-",
    "eks-pod-identity-agent", "nvidia", "kube-vip", "sealed-secrets", "descheduler",
    "vpa-", "kube-state-metrics", "node-problem-detector", "tigera")

RULE = RuleMeta(
    id="controls.kube-system-workload",
    title="Application workload in kube-system",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.TAMPERING),
    likelihood=2, impact=3,
    description=("kube-system holds the cluster's own add-ons and their powerful service "
                 "accounts; an application placed there shares the namespace with them, so "
                 "whoever manages the application (exec, Secret read, pod creation in "
                 "kube-system) reaches the add-ons' tokens, and policies that exempt "
                 "kube-system exempt the application too."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.DEFENSE_EVASION),
    techniques=("T1078.001", "T1610"),
    references=(*refs.cis("5.7.1"), *refs.nsa("namespaces")),
    remediation="Deploy the application into its own namespace; keep kube-system for the "
                "cluster's add-ons.",
    false_positives="Cluster add-ons this list does not know (a CNI, a storage driver); record "
                    "them as such.",
    kb_topics=("default-namespace",),
    per_node=False,
    starts_at_service=False,
)


def _system_addon(images: list[str]) -> bool:
    return any(fragment in image for image in images for fragment in SYSTEM_ADDONS)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag kube-system workloads that are neither known add-ons nor log shippers."""
    inv = facts.inventory
    for wl in inv.workloads:
        if wl.namespace != "kube-system" or wl.kind == "PodTemplate":
            continue
        images = [image_name(c.image) for c in wl.pod.containers]
        if _system_addon(images) or is_logging_agent(wl):
            continue
        yield RULE.finding(wl.id, [located(inv, wl.id, "/metadata/namespace", "kube-system")],
                           title=f"{wl.kind} {wl.name} ({', '.join(images)}) runs in "
                                 "kube-system")
