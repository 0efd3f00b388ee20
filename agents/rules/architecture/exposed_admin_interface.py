"""Dashboards and admin interfaces reachable from outside the cluster."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import admin_interface
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.exposure import exposed_workload_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="architecture.exposed-admin-interface",
    title="Dashboard or admin interface reachable from outside",
    phase=Phase.ARCHITECTURE,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE, Stride.SPOOFING),
    likelihood=3, impact=4,
    description=("Dashboards and admin consoles (Grafana, Kibana, the Kubernetes dashboard, "
                 "Prometheus, RabbitMQ management, ...) are exposed through a LoadBalancer, "
                 "NodePort, Ingress, gateway or host port; they often ship with default or no "
                 "credentials and reveal or control the system."),
    tactics=(refs.TA.INITIAL_ACCESS,),
    techniques=("T1133", "T1190"),
    ms_matrix=("MS-TA9005",),
    references=(*refs.nsa("network-separation"), *refs.NETWORK, *refs.EXPOSED),
    remediation="Keep admin interfaces on ClusterIP and reach them through an authenticating "
                "proxy, VPN or kubectl port-forward.",
    false_positives="Interfaces behind an authenticating ingress (oauth2-proxy) configured "
                    "outside these manifests.",
    kb_topics=("loadbalancer-exposure", "nodeport-exposure"),
    reach_is_enough=True,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag admin-interface workloads with any exposure outside the cluster network."""
    return exposed_workload_findings(RULE, facts, admin_interface,
                                     lambda what, wl: f"{what} ({wl.name})")
