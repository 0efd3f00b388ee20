"""The reviewer's node in the graph: the run's final threat model, handed to the run.

The state keeps only a summary (the whole model would add its size to every later checkpoint);
the model goes onto the run context, where :mod:`workflow.runs` takes it to store. A process
that finds a reviewed state without the model on its context (it resumed a run killed between
the reviewer and the store) assembles the same model again from the state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.reviewer.assemble import assemble_model
from agents.run_context import RunContext
from workflow.domain.run_state import ThreatModelState

if TYPE_CHECKING:  # only for the node's signature: LangGraph itself is not imported here
    from langgraph.runtime import Runtime

__all__ = ["reviewer"]


def reviewer(state: ThreatModelState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Merge, score and rank every phase's findings into the final threat model."""
    ctx = runtime.context
    ctx.model = assemble_model(state, ctx, partial=False)
    return {"reviewed": {"findings": ctx.model.summary.total,
                         "overall_risk": ctx.model.summary.overall_risk.value}}
