"""The logging phase: whether what happens can be seen afterwards."""

from __future__ import annotations

from agents.phase import PhaseSpec, PromptView, WorkloadDetail
from agents.rules.logging import RULES
from workflow.domain.threat_model import Phase

__all__ = ["PHASE"]

PHASE = PhaseSpec(
    phase=Phase.LOGGING,
    title="Logging: audit logs, log shipping and retention, runtime detection",
    rules=RULES,
    view=PromptView(
        kinds=("DaemonSet", "*workloads", "ConfigMap", "Namespace", "Service", "ServiceMonitor",
               "PrometheusRule"),
        workload_details=frozenset({WorkloadDetail.VOLUMES})),
)
