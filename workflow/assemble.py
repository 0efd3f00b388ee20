"""Assemble the threat model from the graph state (finished, or partial and marked so).

No LangGraph here: ``ktmb scan`` assembles its model with the same code as the graph's reviewer
node (``workflow.graph.reviewer``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from agents.phase_runner import inputs_of
from agents.reviewer import review
from agents.rules.catalogue import ALL_RULES
from agents.rules.facts import classification_from_text
from workflow import __version__, dumped
from workflow.domain.inputs import LoadedInputs
from workflow.domain.threat_model import (
    PHASES,
    Application,
    ArchitectureView,
    Degradation,
    Finding,
    Generator,
    LlmInfo,
    PhaseRecord,
    PromptRef,
    ThreatModel,
)
from workflow.state import ThreatModelState, all_findings

__all__ = ["assemble_model", "final_model"]


def _generator(state: ThreatModelState) -> Generator:
    llm = state.get("llm")
    prompts = sorted((PromptRef.model_validate(p) for p in (state.get("prompts") or {}).values()),
                     key=lambda p: (p.id, p.version))
    return Generator(version=__version__, llm=LlmInfo.model_validate(llm) if llm else None,
                     prompts=tuple(prompts), rules=len(ALL_RULES))


def _classification(state: ThreatModelState, inputs: LoadedInputs) -> str | None:
    """The run's data classification: ``--classification``, else the architecture notes."""
    options = state.get("extras") or {}
    explicit = options.get("classification")
    if explicit:
        return str(explicit)
    for note in inputs.notes:
        found = classification_from_text(note.text)
        if found:
            return found
    return None


def assemble_model(state: ThreatModelState, *, partial: bool) -> ThreatModel:
    """The threat model of the state; ``partial`` marks a run that has not finished."""
    inputs = inputs_of(state)  # the phases' cached inputs (and their memoised facts)
    inv = inputs.inventory
    run_id = str(state.get("run_id") or "")
    findings = [dumped.load(run_id, f, Finding) for f in all_findings(state).values()]
    architecture = ArchitectureView.model_validate(state.get("architecture") or {})
    phases = {p: PhaseRecord.model_validate((state.get("phases") or {}).get(p.value, {}))
              for p in PHASES}
    dropped = sum(r.model_items_dropped for r in phases.values())
    result = review(inv, findings, architecture=architecture, model_items_dropped=dropped,
                    data_classification=_classification(state, inputs))
    if result.adjustments:
        result = result.model_copy(update={"findings": tuple(
            f.model_copy(update={"score_factors": result.adjustments.get(f.id, ())})
            for f in result.findings)})
    degradations = tuple(Degradation.model_validate(d)
                         for _, d in sorted((state.get("degradations") or {}).items()))
    summary = result.summary.model_copy(update={"model_items_dropped": dropped})
    return ThreatModel(
        run_id=state.get("run_id", ""), created_at=datetime.now(UTC),
        application=Application(name=state.get("application", ""), inputs=tuple(inputs.files)),
        generator=_generator(state), phases=phases, architecture=architecture,
        identity_map=list(result.identity_map), attack_paths=result.attack_paths,
        compliance=dict(result.compliance), findings=result.findings, summary=summary,
        degradations=degradations, partial=partial)


def final_model(state: ThreatModelState) -> ThreatModel:
    """The final model of a reviewed state: the reviewer's own in this process, else rebuilt."""
    handed = dumped.recall(str(state.get("run_id") or ""), state.get("reviewed"), ThreatModel)
    return handed if handed is not None else assemble_model(state, partial=False)
