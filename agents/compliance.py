"""The compliance phase agent."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.phases import phase_update
from workflow.context import RunContext
from workflow.domain.threat_model import Phase
from workflow.state import ThreatModelState

__all__ = ["compliance"]


def compliance(state: ThreatModelState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Run the compliance rules, cite the knowledge base and let the model add what rules miss."""
    return phase_update(Phase.COMPLIANCE, state, runtime.context)
