"""``ktmb scan``: the deterministic threat model in one process, without graph, database or model.

The eight phases run in order over the inventory through the same code as the graph's phase
nodes (:func:`agents.phases.phase_update`); each update is applied through the state's own
reducers (:func:`workflow.state.apply_update`) and the reviewer's code assembles the model
(:func:`workflow.assemble.assemble_model`). The findings, fingerprints, scores, attack paths,
identity map and compliance summary are those of ``ktmb run --llm off`` on the same inputs.

What a scan leaves out, by design, is everything that needs the database: the knowledge base's
passages (findings carry no citations; recorded as a degradation in the model), checkpoints,
approval gates and the run history. It is the mode for CI gates and posture checks; ``ktmb
run`` builds the reviewed threat model. Importing this module imports neither LangGraph nor
psycopg nor a model client (``tests/unit/test_start_up.py`` checks it), so a scan starts in a
fraction of a second.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from agents.phase_runner import remember_inputs
from agents.phases import phase_update
from workflow import dumped
from workflow.assemble import assemble_model
from workflow.context import RunContext
from workflow.domain.inputs import LoadedInputs
from workflow.domain.threat_model import PHASES, Degradation, ThreatModel
from workflow.run_ids import new_run_id
from workflow.state import apply_update, initial_state

__all__ = ["NO_KNOWLEDGE_BASE", "scan"]

log = structlog.get_logger(__name__)

#: The degradation every scanned model records.
NO_KNOWLEDGE_BASE = Degradation(
    component="knowledge_base",
    reason="ktmb scan does not open the knowledge base: findings carry no citations of its "
           "passages (ktmb run adds them)")


def scan(inputs: LoadedInputs, *, application: str, options: Mapping[str, Any] | None = None,
         run_id: str | None = None) -> ThreatModel:
    """The threat model of ``inputs`` from the rule catalogue and the reviewer alone.

    ``options`` are a run's: ``classification`` and ``cloud`` (a model provider is not used).
    """
    run_id = run_id or new_run_id(application)
    state = initial_state(run_id=run_id, application=application, inputs_snapshot={},
                          inputs_digest=inputs.digest, approval=[], options=options)
    remember_inputs(state, inputs)  # in place of the snapshot a graph run checkpoints
    context = RunContext()
    try:
        for phase in PHASES:
            state = apply_update(state, phase_update(phase, state, context))
        model = assemble_model(state, partial=False)
    finally:
        dumped.forget(run_id)  # the findings are in the model now
    log.info("scan_done", run_id=run_id, findings=model.summary.total,
             overall_risk=model.summary.overall_risk.value)
    return model.model_copy(update={"degradations": (*model.degradations, NO_KNOWLEDGE_BASE)})
