"""One phase's work as a state update, without the graph.

The graph's phase nodes (``agents.architecture`` ... ``agents.risk_review``) and ``ktmb scan``
both call :func:`phase_update`, so a scan and a graph run of the same inputs produce the same
findings. Nothing here imports LangGraph.
"""

from __future__ import annotations

from typing import Any

from agents.architecture_view import build_architecture
from agents.phase_runner import inputs_of, run_phase
from agents.rules.catalogue import rules_for
from workflow.context import RunContext
from workflow.domain.threat_model import Phase
from workflow.state import ThreatModelState

__all__ = ["phase_update"]


def phase_update(phase: Phase, state: ThreatModelState, ctx: RunContext | None) -> dict[str, Any]:
    """Run ``phase`` (rules, citations, retrieval, model) over the state's inventory.

    The architecture phase also reconstructs the architecture view (components, entry points,
    trust boundaries, data flows and the diagram).
    """
    update = run_phase(phase, rules_for(phase), state, ctx).update(phase)
    if phase is Phase.ARCHITECTURE:
        update["architecture"] = build_architecture(inputs_of(state).inventory).model_dump(
            mode="json")
    return update
