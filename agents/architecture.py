"""The architecture phase: components, entry points, trust boundaries and data flows.

Its rules are about the application's front door: TLS, exposed admin interfaces and data
stores.
"""

from __future__ import annotations

from agents.architecture_view import build_architecture
from agents.phase import PhaseSpec, PromptView, WorkloadDetail
from agents.rules.architecture import RULES
from workflow.domain.threat_model import Phase

__all__ = ["PHASE"]

PHASE = PhaseSpec(
    phase=Phase.ARCHITECTURE,
    title="Architecture: components, entry points, trust boundaries, data flows",
    rules=RULES,
    view=PromptView(
        kinds=("Namespace", "*workloads", "Service", "Ingress", "IngressClass", "Gateway",
               "HTTPRoute", "VirtualService", "ServiceEntry", "APIService"),
        workload_details=frozenset({WorkloadDetail.PORTS})),
    extra_step=build_architecture,
)
