"""Workloads that no ingress NetworkPolicy in their own namespace selects."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.inventory import Inventory
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate", "isolated_workloads"]

RULE = RuleMeta(
    id="network.pod-not-isolated",
    title="Pod accepts traffic from anywhere in the cluster",
    phase=Phase.NETWORK,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING),
    likelihood=2, impact=3,
    description=("No NetworkPolicy in the workload's namespace governs its ingress, so any pod "
                 "in the cluster (including a compromised one) can connect to it. Policies in "
                 "other namespaces never apply."),
    tactics=(refs.TA.LATERAL_MOVEMENT, refs.TA.DISCOVERY),
    techniques=("T1210", "T1046"),
    ms_matrix=("MS-TA9034", "MS-TA9031"),
    references=(*refs.cis("5.3.2"), *refs.nsa("network-policies"), *refs.NETWORK),
    remediation="Add a default-deny ingress NetworkPolicy to the namespace and allow only the "
                "callers each workload needs.",
    false_positives="Clusters whose CNI does not enforce NetworkPolicy need a different "
                    "control (service mesh authorisation).",
    kb_topics=("networkpolicy-default-deny",),
    starts_at_service=False,
)


def isolated_workloads(inv: Inventory) -> set[str]:
    """Workload ids selected by at least one ingress-governing policy of their namespace."""
    return {t for pol in inv.network_policies if pol.governs_ingress for t in pol.targets}


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag workloads that no ingress-governing policy in their namespace selects."""
    inv = facts.inventory
    covered = isolated_workloads(inv)
    for wl in inv.workloads:
        if wl.kind == "PodTemplate" or wl.id in covered or wl.pod.flag("hostNetwork"):
            continue
        yield RULE.finding(wl.id, [located(inv, wl.id, wl.pod.path.rsplit("/", 1)[0]
                                           + "/metadata/labels", wl.pod.labels or None)],
                           title=f"{wl.kind} {wl.name} is not isolated by any NetworkPolicy "
                                 f"in namespace {wl.namespace}")
