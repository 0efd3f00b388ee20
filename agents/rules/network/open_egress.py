"""Unrestricted egress, cloud metadata endpoint included."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.resources import NetworkPolicy
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["METADATA_IP", "RULE", "evaluate", "metadata_reachable"]

METADATA_IP = ipaddress.ip_address("169.254.169.254")

RULE = RuleMeta(
    id="network.open-egress",
    title="Egress unrestricted (cloud metadata endpoint reachable)",
    phase=Phase.NETWORK,
    stride=(Stride.INFORMATION_DISCLOSURE, Stride.ELEVATION_OF_PRIVILEGE),
    likelihood=2, impact=3,
    description=("Nothing restricts where the pod may connect: a compromised pod can reach "
                 "the cloud instance metadata endpoint (169.254.169.254) for node credentials, "
                 "any internal service, and the internet for exfiltration."),
    tactics=(refs.TA.CREDENTIAL_ACCESS, refs.TA.EXFILTRATION, refs.TA.LATERAL_MOVEMENT),
    techniques=("T1552.005", "T1041"),
    ms_matrix=("MS-TA9033", "MS-TA9028"),
    references=(*refs.nsa("network-policies"), *refs.NETWORK, *refs.CLOUD),
    remediation="Add an egress NetworkPolicy that allows only the destinations the workload "
                "needs and excludes 169.254.169.254/32.",
    false_positives="Clusters that block the metadata endpoint on the node (IMDSv2 hop limit, "
                    "GKE metadata server) still allow the rest of the traffic.",
    kb_topics=("networkpolicy-egress", "metadata-endpoint"),
)


def _peer_open(peer: dict[str, Any]) -> bool:
    block = peer.get("ipBlock")
    if not isinstance(block, dict):
        return False
    try:
        net = ipaddress.ip_network(str(block.get("cidr", "")), strict=False)
    except ValueError:
        return False
    if METADATA_IP not in net:
        return False
    for item in block.get("except") or []:
        try:
            if METADATA_IP in ipaddress.ip_network(str(item), strict=False):
                return False
        except ValueError:
            continue
    return True


def metadata_reachable(policies: list[NetworkPolicy]) -> tuple[bool, str | None, str]:
    """(reachable, policy id or None, JSON pointer) for the egress policies of one pod."""
    egress = [p for p in policies if p.governs_egress]
    if not egress:
        return True, None, ""
    for pol in egress:
        for index, rule in enumerate(pol.egress):
            peers = rule.get("to")
            if not peers or any(isinstance(p, dict) and _peer_open(p) for p in peers):
                return True, pol.id, pol.rule_pointer("egress", index)
    return False, None, ""


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag workloads whose egress allows the metadata endpoint (or is not governed)."""
    inv = facts.inventory
    by_target: dict[str, list[NetworkPolicy]] = {}
    for pol in inv.network_policies:
        for target in pol.targets:
            by_target.setdefault(target, []).append(pol)
    for wl in inv.workloads:
        if wl.kind == "PodTemplate":
            continue
        if wl.pod.flag("hostNetwork"):
            yield RULE.finding(
                wl.id, [located(inv, wl.id, wl.pod.path + "/hostNetwork", True)],
                title=f"{wl.kind} {wl.name} has the node's unrestricted egress (NetworkPolicy "
                      "does not govern host-network pods)",
                recommendation="Remove hostNetwork so that an egress NetworkPolicy applies, or "
                               "restrict egress on the node (host firewall, metadata hop "
                               "limit of 1).")
            continue
        reachable, policy, ptr = metadata_reachable(by_target.get(wl.id, []))
        if not reachable:
            continue
        if policy is None:
            ev = [located(inv, wl.id, wl.pod.path, "no egress NetworkPolicy selects this pod")]
            title = f"{wl.kind} {wl.name} has unrestricted egress"
        else:
            source = inv.get(policy)
            ev = [located(inv, policy, ptr, source.get(ptr) if source else None)]
            title = f"{wl.kind} {wl.name}: {policy} allows egress to any destination"
        yield RULE.finding((wl.id, *([policy] if policy else [])), ev, title=title)
