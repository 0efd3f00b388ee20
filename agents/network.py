"""The network phase agent."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.phase_runner import run_phase
from agents.rules.network import RULES
from workflow.context import RunContext
from workflow.state import ThreatModelState
from workflow.threat_model import Phase

__all__ = ["network"]


def network(state: ThreatModelState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Run the network rules, cite the knowledge base and let the model add what rules miss."""
    return run_phase(Phase.NETWORK, RULES, state, runtime.context).update(Phase.NETWORK)
