"""The network phase: what can reach what, from the internet and inside the cluster."""

from __future__ import annotations

from agents.phase import PhaseSpec, PromptView, WorkloadDetail
from agents.rules.network import RULES
from workflow.domain.threat_model import Phase

__all__ = ["PHASE"]

PHASE = PhaseSpec(
    phase=Phase.NETWORK,
    title="Network: exposure, NetworkPolicies, isolation and egress",
    rules=RULES,
    view=PromptView(
        kinds=("NetworkPolicy", "Service", "Ingress", "*workloads", "Namespace", "Gateway",
               "HTTPRoute", "VirtualService", "AuthorizationPolicy", "PeerAuthentication",
               "DestinationRule", "ServiceEntry", "CiliumNetworkPolicy"),
        workload_details=frozenset({WorkloadDetail.PORTS, WorkloadDetail.POD_LABELS})),
)
