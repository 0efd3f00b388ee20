"""The architecture phase: components, entry points, trust boundaries, data flows, findings."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.architecture_view import build_architecture
from agents.phase_runner import inputs_of, run_phase
from agents.rules.architecture import RULES
from workflow.context import RunContext
from workflow.state import ThreatModelState
from workflow.threat_model import Phase

__all__ = ["architecture"]


def architecture(state: ThreatModelState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Reconstruct the architecture and run the architecture rules."""
    view = build_architecture(inputs_of(state).inventory)
    update = run_phase(Phase.ARCHITECTURE, RULES, state, runtime.context).update(
        Phase.ARCHITECTURE)
    update["architecture"] = view.model_dump(mode="json")
    return update
