"""The risk_review phase agent."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.phases import phase_update
from workflow.context import RunContext
from workflow.domain.threat_model import Phase
from workflow.state import ThreatModelState

__all__ = ["risk_review"]


def risk_review(state: ThreatModelState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Run the risk_review rules, cite the knowledge base and let the model add what rules miss."""
    return phase_update(Phase.RISK_REVIEW, state, runtime.context)
