"""What every phase does: rules, citations, retrieval, then (optionally) the model.

:func:`run_phase` is the whole work of a phase; :func:`phase_node` wraps it as the graph's node
and ``ktmb scan`` calls it directly, so a scan and a graph run of the same inputs produce the
same findings. A phase is idempotent: it re-runs from its first line after a crash or a
resume, and its findings are upserted by id, so nothing is lost or duplicated.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import structlog

from agents.phase import PhaseResult, PhaseSpec
from agents.rules.base import RuleMeta, run_rules
from agents.run_context import RunContext
from workflow.domain.errors import RetrievalError
from workflow.domain.inventory import Inventory
from workflow.domain.passages import Passage
from workflow.domain.run_state import ThreatModelState
from workflow.domain.threat_model import Citation, Finding, Phase, PhaseRecord, PhaseStatus

if TYPE_CHECKING:  # only for the node's signature: LangGraph itself is not imported here
    from langgraph.runtime import Runtime

__all__ = ["locate_evidence", "phase_node", "retrieval_query", "run_phase"]

log = structlog.get_logger(__name__)


def locate_evidence(finding: Finding, inv: Inventory,
                    citations: tuple[Citation, ...] | None = None) -> Finding:
    """Fill each evidence's file and line from the inventory's source map.

    ``citations``, when given, are set in the same copy (one copy per finding, not two).
    """
    located = []
    changed = False
    for item in finding.evidence:
        res = inv.get(item.resource)
        if res is None or item.line is not None:
            located.append(item)
            continue
        located.append(item.model_copy(update={"file": res.source.file,
                                               "line": res.line_of(item.path)}))
        changed = True
    update: dict[str, Any] = {"evidence": tuple(located)} if changed else {}
    if citations:
        update["citations"] = citations
    return finding.model_copy(update=update) if update else finding


def _test_delay(phase: Phase) -> None:
    """Test hook: ``KTMB_TEST_PHASE_DELAY=network:30`` sleeps inside that phase."""
    spec = os.environ.get("KTMB_TEST_PHASE_DELAY", "")
    name, _, seconds = spec.partition(":")
    if name == phase.value and seconds:
        time.sleep(float(seconds))


def _degradation(phase: Phase, component: str, reason: str) -> dict[str, Any]:
    return {"phase": phase.value, "component": component, "reason": reason}


def _citations(findings: list[Finding], spec: PhaseSpec, ctx: RunContext,
               degradations: dict[str, Any]) -> dict[str, tuple[Citation, ...]]:
    """The built-in passages that back each rule of these findings, as citations."""
    by_rule: dict[str, tuple[Citation, ...]] = {}
    if ctx.services.retriever is None:
        return by_rule
    metas: dict[str, RuleMeta] = {rule.RULE.id: rule.RULE for rule in spec.rules}
    for rule_id in dict.fromkeys(f.rule for f in findings):
        passages: list[Passage]
        try:
            passages = ctx.services.retriever.passages_for_topics(metas[rule_id].citation_topics)
        except RetrievalError as exc:
            degradations[f"{spec.phase.value}:citations"] = _degradation(
                spec.phase, "knowledge_base", str(exc))
            passages = []
        by_rule[rule_id] = tuple(p.citation() for p in passages)
    return by_rule


def retrieval_query(phase: Phase, findings: Sequence[Finding]) -> str:
    """The knowledge-base query of a phase, built from its findings."""
    titles = list(dict.fromkeys(f.title for f in findings))[:8]
    topic = phase.value.replace("_", " ")
    return f"Kubernetes {topic} threats and mitigations: " + "; ".join(titles)


def _retrieve(phase: Phase, findings: Sequence[Finding], ctx: RunContext,
              degradations: dict[str, Any]) -> list[Passage]:
    """Passages for the model; a knowledge-base problem is a degradation, never fatal.

    An unavailable knowledge base, or a search limited to full text, is recorded.
    """
    retriever, k = ctx.services.retriever, ctx.services.top_k
    if retriever is None:
        return []
    try:
        passages = retriever.search(retrieval_query(phase, findings), k=k, phase=phase)
    except RetrievalError as exc:
        degradations[f"{phase.value}:retrieval"] = _degradation(
            phase, "knowledge_base", str(exc))
        return []
    if retriever.notes:
        degradations[f"{phase.value}:retrieval"] = _degradation(
            phase, "knowledge_base", "; ".join(retriever.notes))
    return passages


def run_phase(spec: PhaseSpec, ctx: RunContext, *, guidance: str | None = None) -> PhaseResult:
    """Run a phase: its rules, their citations, retrieval and model enrichment, extra step.

    Only the rules the run selects run (``ctx.rules``); a selection is recorded as a
    degradation of the run (the other rules' findings are absent).

    The rules see the run's facts with the open findings of the earlier phases (what the
    risk review chains). The run's triage decisions are applied to the phase's findings (rules
    and model alike); they are kept on the context as well as returned.
    """
    phase = spec.phase
    started = time.monotonic()
    with structlog.contextvars.bound_contextvars(phase=phase.value):
        if ctx.services.progress is not None:
            ctx.services.progress(phase, "started", {})
        facts = ctx.facts.with_findings(ctx.chainable_findings(phase))
        inv = facts.inventory
        rules = ctx.rules.of_phase(spec.rules)
        found = run_rules(rules, facts)
        degradations: dict[str, Any] = {}
        if not ctx.rules.everything:  # one entry for the run, the same from every phase
            degradations["rules"] = {"phase": None, "component": "rules",
                                     "reason": ctx.rules.describe()}
        cites = _citations(found, spec, ctx, degradations)
        findings = [locate_evidence(f, inv, cites.get(f.rule)) for f in found]
        _test_delay(phase)
        result = PhaseResult(phase=phase, findings=findings, record=PhaseRecord(),
                             degradations=degradations)
        dropped = 0
        enricher = ctx.services.enricher
        if enricher is not None:
            passages = _retrieve(phase, findings, ctx, degradations)
            enrichment = enricher.enrich(spec, facts, findings, passages, ctx.inputs.notes,
                                         guidance)
            result.findings = enrichment.apply(findings)
            result.usage = enrichment.usage_record()
            result.prompts = enrichment.prompt_refs()
            result.llm = enricher.info
            if spec.paths_step is not None:
                result.model_paths = [dict(p) for p in enrichment.paths]
            dropped = enrichment.dropped
            if enrichment.degradation:
                degradations[f"{phase.value}:model"] = _degradation(
                    phase, "model", enrichment.degradation)
        if spec.extra_step is not None:
            result.architecture = spec.extra_step(facts)
        if spec.paths_step is not None:
            result.attack_paths = spec.paths_step(facts)
        # Triage carried over (stored decisions, suppressions file, annotations), before the
        # gate shows the phase and before later phases build on it.
        result.findings = ctx.triage.apply_all(result.findings, ctx.today)
        degraded = any(d.get("component") == "model" for d in degradations.values())
        status = PhaseStatus.DEGRADED if degraded else PhaseStatus.COMPLETED
        result.record = PhaseRecord(status=status, findings=len(result.findings),
                                    guidance=guidance, model_items_dropped=dropped)
        log.info("phase_done", findings=len(result.findings), status=status.value,
                 seconds=round(time.monotonic() - started, 3))
        if ctx.services.progress is not None:
            ctx.services.progress(phase, "finished", {"findings": len(result.findings),
                                             "status": status.value})
    ctx.findings[phase] = {f.id: f for f in result.findings}
    return result


def phase_node(spec: PhaseSpec) -> Callable[[ThreatModelState, Runtime[RunContext]],
                                            dict[str, Any]]:
    """The graph node of a phase: :func:`run_phase` as an update of the run's state."""

    def node(state: ThreatModelState, runtime: Runtime[RunContext]) -> dict[str, Any]:
        guidance = (state.get("guidance") or {}).get(spec.phase.value)
        return run_phase(spec, runtime.context, guidance=guidance).state_update()

    node.__name__ = spec.phase.value
    node.__doc__ = f"The {spec.phase.value} phase: {spec.title}."
    return node
