"""NetworkPolicies that select no pod."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="network.dangling-policy",
    title="NetworkPolicy selects no pod",
    phase=Phase.NETWORK,
    stride=(Stride.INFORMATION_DISCLOSURE,),
    likelihood=2, impact=2,
    description=("The policy's podSelector matches no workload in its namespace (a typo, a "
                 "renamed label, or the wrong namespace), so the isolation it was written for "
                 "does not exist."),
    tactics=(refs.TA.LATERAL_MOVEMENT,),
    techniques=("T1210",),
    references=(*refs.nsa("network-policies"), *refs.NETWORK),
    remediation="Fix the podSelector or the namespace so the policy selects the intended "
                "pods, or delete it.",
    false_positives="Policies written ahead of workloads deployed from other manifests.",
    kb_topics=("networkpolicy-default-deny",),
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag policies with a non-empty selector and no target in their namespace."""
    inv = facts.inventory
    selecting = {pol.id for pol in inv.network_policies if pol.targets}
    seen: set[str] = set()
    for pol in inv.network_policies:
        if pol.selects_all or pol.id in selecting or pol.id in seen:
            continue
        seen.add(pol.id)
        field = "podSelector" if pol.kind == "NetworkPolicy" else "endpointSelector"
        where = ("" if pol.id.startswith("CiliumClusterwideNetworkPolicy/")
                 else f" in namespace {pol.namespace}")
        yield RULE.finding(pol.id, [located(inv, pol.id, f"{pol.pointer}/{field}",
                                            pol.pod_selector)],
                           title=f"{pol.id} selects no pod{where}")
