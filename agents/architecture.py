"""The architecture phase: components, entry points, trust boundaries, data flows, findings."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.phases import phase_update
from workflow.context import RunContext
from workflow.domain.threat_model import Phase
from workflow.state import ThreatModelState

__all__ = ["architecture"]


def architecture(state: ThreatModelState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Reconstruct the architecture and run the architecture rules."""
    return phase_update(Phase.ARCHITECTURE, state, runtime.context)
