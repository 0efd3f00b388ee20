"""Namespaces without a default-deny ingress policy."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.admission import application_namespaces, default_deny_namespaces
from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="network.no-default-deny",
    title="Namespace has no default-deny NetworkPolicy",
    phase=Phase.NETWORK,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING),
    likelihood=2, impact=3,
    description=("Without a policy that selects every pod and allows nothing, each new "
                 "workload in the namespace starts open to the whole cluster."),
    tactics=(refs.TA.LATERAL_MOVEMENT,),
    techniques=("T1210",),
    ms_matrix=("MS-TA9034",),
    references=(*refs.cis("5.3.2"), *refs.nsa("network-policies"), *refs.NETWORK),
    remediation="Add a NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress] "
                "to the namespace, then allow each needed flow.",
    false_positives="Clusters with a global default-deny from the CNI (e.g. Calico "
                    "GlobalNetworkPolicy) outside these manifests.",
    kb_topics=("networkpolicy-default-deny",),
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag each namespace that runs workloads, or is declared, without default-deny ingress."""
    inv = facts.inventory
    deny = default_deny_namespaces(inv)
    for ns in application_namespaces(inv, pod_network=True):
        if "Ingress" in deny.get(ns, set()):
            continue
        rid = f"Namespace/{ns}"
        yield RULE.finding(rid, [located(inv, rid, "/", f"namespace {ns}: no default-deny")],
                           title=f"Namespace {ns} has no default-deny NetworkPolicy")
