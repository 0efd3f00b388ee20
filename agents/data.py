"""The data phase agent."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.phase_runner import run_phase
from agents.rules.data import RULES
from workflow.context import RunContext
from workflow.state import ThreatModelState
from workflow.threat_model import Phase

__all__ = ["data"]


def data(state: ThreatModelState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Run the data rules, cite the knowledge base and let the model add what rules miss."""
    return run_phase(Phase.DATA, RULES, state, runtime.context).update(Phase.DATA)
