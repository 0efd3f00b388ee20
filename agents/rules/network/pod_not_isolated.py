"""Workloads that no ingress NetworkPolicy in their own namespace selects."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.identity import automounts_token
from agents.facts.workloads import data_store, holds_node
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.inventory import Inventory
from workflow.domain.resources import Workload
from workflow.domain.scoring import Impact, Likelihood
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate", "isolated_workloads"]

RULE = RuleMeta(
    id="network.pod-not-isolated",
    title="Pod accepts traffic from anywhere in the cluster",
    phase=Phase.NETWORK,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.TAMPERING),
    likelihood=Likelihood.FURTHER_STEP, impact=Impact.LIMITED,
    description=("No NetworkPolicy in the workload's namespace governs its ingress, so any pod "
                 "in the cluster (including a compromised one) can connect to it. Policies in "
                 "other namespaces never apply. The harm is what is behind: a data store's "
                 "data, or the node or cluster rights the pod holds."),
    tactics=(refs.TA.LATERAL_MOVEMENT, refs.TA.DISCOVERY),
    techniques=("T1210", "T1046"),
    ms_matrix=("MS-TA9034", "MS-TA9031"),
    references=(*refs.cis("5.3.2"), *refs.nsa("network-policies"), *refs.NETWORK),
    remediation="Add a default-deny ingress NetworkPolicy to the namespace and allow only the "
                "callers each workload needs.",
    false_positives="Clusters whose CNI does not enforce NetworkPolicy need a different "
                    "control (service mesh authorisation).",
    kb_topics=("networkpolicy-default-deny",),
    per_node=False,
    starts_at_service=False,
)


def isolated_workloads(inv: Inventory) -> set[str]:
    """Workload ids selected by at least one ingress-governing policy of their namespace."""
    return {t for pol in inv.network_policies if pol.governs_ingress for t in pol.targets}


def _behind(facts: Facts, wl: Workload) -> tuple[int, int, str]:
    """(likelihood, impact, what) of reaching a pod: its data, or the rights it holds.

    A data store's data is one connection away; a pod that holds the node or cluster-level API
    rights must first be exploited through the open port.
    """
    listens = any(c.ports for c in wl.pod.containers)
    if not listens and not any(wl.id in svc.targets for svc in facts.inventory.services):
        return Likelihood.ADMIN, Impact.LIMITED, "it declares no port and no Service selects it"
    kind = data_store(wl)
    if kind:
        return Likelihood.FOOTHOLD, Impact.SERVICE, f"a {kind}: its data is one connection away"
    caps = facts.capabilities(wl.service_account_id) \
        if automounts_token(facts.inventory, wl) else []
    if any(c.grant.scope == "cluster" for c in caps):
        return (Likelihood.FURTHER_STEP, Impact.CLUSTER,
                "it holds a token with cluster-wide rights")
    if holds_node(wl):
        return Likelihood.FURTHER_STEP, Impact.SYSTEM, "it holds its node"
    return RULE.likelihood, RULE.impact, ""


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag workloads that no ingress-governing policy in their namespace selects."""
    inv = facts.inventory
    covered = isolated_workloads(inv)
    for wl in inv.workloads:
        if wl.kind == "PodTemplate" or wl.id in covered or wl.pod.flag("hostNetwork"):
            continue
        likelihood, impact, what = _behind(facts, wl)
        yield RULE.finding(wl.id, [located(inv, wl.id, wl.pod.path.rsplit("/", 1)[0]
                                           + "/metadata/labels", wl.pod.labels or None)],
                           likelihood=likelihood, impact=impact,
                           title=f"{wl.kind} {wl.name} is not isolated by any NetworkPolicy "
                                 f"in namespace {wl.namespace}" + (f" ({what})" if what else ""))
