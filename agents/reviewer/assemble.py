"""The threat model of a run: the reviewer's result with everything the run recorded.

Used by the reviewer's node (a finished run), by ``ktmb scan`` and by the run for the partial
model of a run that has not finished (marked ``partial``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from agents.catalogue import ALL_RULES
from agents.facts.classification import classification_from_text, most_sensitive
from agents.reviewer.review import gate_scores, review
from agents.run_context import RunContext
from workflow.domain import __version__
from workflow.domain.baseline import gate_marks, mark_model
from workflow.domain.inputs import LoadedInputs
from workflow.domain.threat_model import (
    PHASES,
    Application,
    ArchitectureView,
    Degradation,
    Finding,
    Generator,
    LlmInfo,
    Phase,
    PhaseRecord,
    PromptRef,
    ThreatModel,
)

__all__ = ["GATE_SCORES", "assemble_model", "gate_findings"]

#: What the scores shown at a gate are (with the pending phase's findings).
GATE_SCORES = ("scores as the reviewer will publish them (exposure, data, blast radius, "
               "mitigations); a score may rise if chained into an attack path (likelihood +1)")


def _generator(state: Mapping[str, Any]) -> Generator:
    llm = state.get("llm")
    prompts = sorted((PromptRef.model_validate(p) for p in (state.get("prompts") or {}).values()),
                     key=lambda p: (p.id, p.version))
    return Generator(version=__version__, llm=LlmInfo.model_validate(llm) if llm else None,
                     prompts=tuple(prompts), rules=len(ALL_RULES))


def _classification(state: Mapping[str, Any], inputs: LoadedInputs) -> str | None:
    """The run's data classification.

    ``--classification``, else the profile's most sensitive one, else the architecture notes.
    """
    options = state.get("extras") or {}
    explicit = options.get("classification")
    if explicit:
        return str(explicit)
    if inputs.profile is not None and inputs.profile.profile.data_classification:
        return most_sensitive(inputs.profile.profile.data_classification)
    for note in inputs.notes:
        found = classification_from_text(note.text)
        if found:
            return found
    return None


def gate_findings(state: Mapping[str, Any], ctx: RunContext, phase: Phase) -> list[Finding]:
    """A phase's findings at its gate, scored as the reviewer will publish them, best first.

    The reviewer's scoring over the run's facts and options (:func:`gate_scores`): a reviewer
    approves the band and score that will be published, bar an attack path's raise. With a
    baseline, each is marked new, changed (evidence or status) or unchanged.
    """
    own = [f for f in ctx.findings.get(phase, {}).values() if f.phase is phase]
    scored = gate_scores(ctx.facts, own,
                         data_classification=_classification(state, ctx.inputs))
    return sorted(gate_marks(scored, ctx.baseline), key=lambda f: (-f.score, f.id))


def assemble_model(state: Mapping[str, Any], ctx: RunContext, *, partial: bool) -> ThreatModel:
    """The threat model of a run from its state and its context's findings.

    ``partial`` marks a run that has not finished.
    """
    inputs = ctx.inputs
    architecture = ArchitectureView.model_validate(state.get("architecture") or {})
    phases = {p: PhaseRecord.model_validate((state.get("phases") or {}).get(p.value, {}))
              for p in PHASES}
    dropped = sum(r.model_items_dropped for r in phases.values())
    result = review(ctx.facts, ctx.all_findings(), model_items_dropped=dropped,
                    data_classification=_classification(state, inputs),
                    model_paths=list(state.get("model_paths") or []))
    if result.adjustments:
        result = result.model_copy(update={"findings": tuple(
            f.model_copy(update={"score_factors": result.adjustments.get(f.id, ())})
            for f in result.findings)})
    degradations = tuple(Degradation.model_validate(d)
                         for _, d in sorted((state.get("degradations") or {}).items()))
    summary = result.summary.model_copy(update={"model_items_dropped": dropped})
    findings, paths, comparison = result.findings, result.attack_paths, None
    if ctx.baseline is not None:
        findings, paths, comparison = mark_model(findings, paths, ctx.baseline)
    return ThreatModel(
        run_id=state.get("run_id", ""), created_at=datetime.now(UTC),
        application=Application(name=state.get("application", ""), inputs=tuple(inputs.files),
                                profile=inputs.profile.profile if inputs.profile else None),
        generator=_generator(state), phases=phases, architecture=architecture,
        identity_map=list(result.identity_map), attack_paths=paths,
        attack_graph=result.attack_graph,
        compliance=dict(result.compliance), findings=findings, summary=summary,
        degradations=degradations, partial=partial, baseline=comparison)
