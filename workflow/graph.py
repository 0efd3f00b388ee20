"""The LangGraph wiring: eight phases, each followed by its gate, then the reviewer node."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from agents.architecture import architecture
from agents.compliance import compliance
from agents.controls import controls
from agents.data import data
from agents.identity import identity
from agents.logging import logging as logging_phase
from agents.network import network
from agents.risk_review import risk_review
from workflow import dumped
from workflow.assemble import assemble_model
from workflow.context import RunContext
from workflow.domain.threat_model import PHASES, Phase
from workflow.gates import make_gate
from workflow.state import ThreatModelState

__all__ = ["PHASE_NODES", "build_graph", "gate_name", "reviewer"]

PHASE_NODES: dict[Phase, Any] = {
    Phase.ARCHITECTURE: architecture,
    Phase.IDENTITY: identity,
    Phase.DATA: data,
    Phase.LOGGING: logging_phase,
    Phase.NETWORK: network,
    Phase.CONTROLS: controls,
    Phase.COMPLIANCE: compliance,
    Phase.RISK_REVIEW: risk_review,
}


def reviewer(state: ThreatModelState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Merge, score and rank every phase's findings into the final threat model.

    The state keeps only a summary (the whole model would add its size to the checkpoint
    twice); the model is handed to the run in this process and stored by it. A process that
    finds a reviewed state without the hand-over rebuilds the same model with ``final_model``.
    """
    model = assemble_model(state, partial=False)
    marker = {"findings": model.summary.total, "overall_risk": model.summary.overall_risk.value}
    dumped.remember(model.run_id, marker, model)
    return {"reviewed": marker}


def gate_name(phase: Phase) -> str:
    """The node name of a phase's gate."""
    return f"gate_{phase.value}"


def _after_gate(phase: Phase, following: str) -> Any:
    def route(state: ThreatModelState) -> str:
        return END if state.get("rejected") == phase.value else following

    route.__name__ = f"after_{gate_name(phase)}"
    return route


def build_graph() -> StateGraph[ThreatModelState, RunContext, ThreatModelState, ThreatModelState]:
    """The uncompiled graph (compile it with a checkpointer)."""
    builder: StateGraph[ThreatModelState, RunContext, ThreatModelState, ThreatModelState] = (
        StateGraph(ThreatModelState, context_schema=RunContext))
    for phase in PHASES:
        builder.add_node(phase.value, PHASE_NODES[phase])
        builder.add_node(gate_name(phase), make_gate(phase))  # type: ignore[call-overload]
    builder.add_node("reviewer", reviewer)
    builder.add_edge(START, PHASES[0].value)
    for index, phase in enumerate(PHASES):
        builder.add_edge(phase.value, gate_name(phase))
        following = PHASES[index + 1].value if index + 1 < len(PHASES) else "reviewer"
        builder.add_conditional_edges(gate_name(phase), _after_gate(phase, following),
                                      [following, END])
    builder.add_edge("reviewer", END)
    return builder
