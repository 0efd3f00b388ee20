"""Databases, caches and queues reachable from outside the cluster."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import data_store
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.exposure import exposed_workload_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="architecture.exposed-data-store",
    title="Data store reachable from outside the cluster",
    phase=Phase.ARCHITECTURE,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING, Stride.DENIAL_OF_SERVICE),
    likelihood=3, impact=5,
    description=("A database, cache, queue or search engine is reachable through a "
                 "LoadBalancer, NodePort, Ingress, gateway or host port; data stores are "
                 "scanned for within minutes of exposure and often run without "
                 "authentication inside clusters."),
    tactics=(refs.TA.INITIAL_ACCESS, refs.TA.COLLECTION),
    techniques=("T1190", "T1133", "T1530"),
    ms_matrix=("MS-TA9005",),
    references=(*refs.nsa("network-separation"), *refs.NETWORK, *refs.EXPOSED),
    remediation="Make the data store's Service ClusterIP, remove host ports, and allow only "
                "its application pods through a NetworkPolicy.",
    false_positives="Managed replication endpoints restricted by source ranges or a firewall "
                    "outside the manifests.",
    kb_topics=("data-store", "loadbalancer-exposure", "nodeport-exposure"),
    reach_is_enough=True,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag data-store workloads with any exposure outside the cluster network."""
    return exposed_workload_findings(RULE, facts, data_store,
                                     lambda kind, wl: f"{kind.capitalize()} {wl.name}")
