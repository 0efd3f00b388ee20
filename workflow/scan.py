"""``ktmb scan``: the deterministic threat model in one process, without graph, database or model.

The phases run in order over the inventory through the same code as the graph's phase nodes
(:func:`agents.phase_runner.run_phase` over :data:`agents.phases.PHASE_SPECS`); each result is
applied to the state through the state's own reducers
(:func:`workflow.domain.run_state.apply_update`) and the reviewer's code assembles the model
(:func:`agents.reviewer.assemble.assemble_model`). The findings, fingerprints, scores, attack
paths, identity map and compliance summary are those of ``ktmb run --llm off`` on the same
inputs.

What a scan leaves out, by design, is everything that needs the database: the knowledge base's
passages (findings carry no citations; recorded as a degradation in the model), checkpoints,
approval gates and the run history. It is the mode for CI gates and posture checks; ``ktmb
run`` builds the reviewed threat model.
"""

from __future__ import annotations

import structlog

from agents.phase_runner import run_phase
from agents.phases import PHASE_SPECS
from agents.reviewer.assemble import assemble_model
from agents.rule_selection import RuleSelection
from agents.run_context import RunContext, triage_set
from workflow.domain.baseline import BaselineSnapshot
from workflow.domain.inputs import LoadedInputs
from workflow.domain.run import RunOptions
from workflow.domain.run_state import apply_update, initial_state
from workflow.domain.threat_model import Degradation, ThreatModel
from workflow.run_ids import new_run_id

__all__ = ["NO_KNOWLEDGE_BASE", "scan"]

log = structlog.get_logger(__name__)

#: The degradation every scanned model records.
NO_KNOWLEDGE_BASE = Degradation(
    component="knowledge_base",
    reason="ktmb scan does not open the knowledge base: findings carry no citations of its "
           "passages (ktmb run adds them)")


def scan(inputs: LoadedInputs, *, application: str, options: RunOptions | None = None,
         run_id: str | None = None, baseline: BaselineSnapshot | None = None) -> ThreatModel:
    """The threat model of ``inputs`` from the rule catalogue and the reviewer alone.

    ``options`` are a run's: its ``classification``, ``cloud`` and rule selection count; a
    model is not used. The repository's triage (suppressions file, annotations) is applied,
    and the reviewers' decisions that hold in ``baseline`` (stored decisions are in the
    database, which a scan does not open). With ``baseline``, findings and attack paths are
    marked against it.

    Raises:
        ConfigError: the options' rule patterns match no rule.
    """
    options = options or RunOptions()
    rules = RuleSelection.of(options.rules, options.skip_rules)
    run_id = run_id or new_run_id(application)
    state = initial_state(run_id=run_id, application=application, inputs_snapshot={},
                          inputs_digest=inputs.digest, approval=[], options=options)
    context = RunContext(inputs=inputs, rules=rules,
                         triage=triage_set(inputs, baseline=baseline), baseline=baseline)
    for spec in PHASE_SPECS:
        state = apply_update(state, run_phase(spec, context).state_update())
    model = assemble_model(state, context, partial=False)
    log.info("scan_done", run_id=run_id, findings=model.summary.total,
             overall_risk=model.summary.overall_risk.value)
    return model.model_copy(update={"degradations": (*model.degradations, NO_KNOWLEDGE_BASE)})
