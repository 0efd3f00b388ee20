"""The risk_review phase agent."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.phase_runner import run_phase
from agents.rules.risk_review import RULES
from workflow.context import RunContext
from workflow.state import ThreatModelState
from workflow.threat_model import Phase

__all__ = ["risk_review"]


def risk_review(state: ThreatModelState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Run the risk_review rules, cite the knowledge base and let the model add what rules miss."""
    return run_phase(Phase.RISK_REVIEW, RULES, state, runtime.context).update(Phase.RISK_REVIEW)
