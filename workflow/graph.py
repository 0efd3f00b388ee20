"""The LangGraph wiring: each declared phase followed by its gate, then the reviewer node."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from agents.phase_runner import phase_node
from agents.phases import PHASE_SPECS
from agents.reviewer.node import reviewer
from agents.run_context import RunContext
from workflow.domain.run_state import ThreatModelState
from workflow.domain.threat_model import Phase
from workflow.gates import gate_name, make_gate

__all__ = ["build_graph"]


def _after_gate(phase: Phase, following: str) -> Any:
    def route(state: ThreatModelState) -> str:
        return END if state.get("rejected") == phase.value else following

    route.__name__ = f"after_{gate_name(phase)}"
    return route


def build_graph() -> StateGraph[ThreatModelState, RunContext, ThreatModelState, ThreatModelState]:
    """The uncompiled graph (compile it with a checkpointer)."""
    builder: StateGraph[ThreatModelState, RunContext, ThreatModelState, ThreatModelState] = (
        StateGraph(ThreatModelState, context_schema=RunContext))
    for spec in PHASE_SPECS:
        builder.add_node(spec.phase.value, phase_node(spec))  # type: ignore[call-overload]
        builder.add_node(gate_name(spec.phase), make_gate(spec.phase))  # type: ignore[call-overload]
    builder.add_node("reviewer", reviewer)
    builder.add_edge(START, PHASE_SPECS[0].phase.value)
    for index, spec in enumerate(PHASE_SPECS):
        following = (PHASE_SPECS[index + 1].phase.value if index + 1 < len(PHASE_SPECS)
                     else "reviewer")
        builder.add_edge(spec.phase.value, gate_name(spec.phase))
        builder.add_conditional_edges(gate_name(spec.phase), _after_gate(spec.phase, following),
                                      [following, END])
    builder.add_edge("reviewer", END)
    return builder
