"""What every phase agent does: rules, then retrieval, then (optionally) the model.

A phase node is idempotent: it re-runs from its first line after a crash or a resume, and its
findings are upserted by id, so nothing is lost or duplicated.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from agents.rules.base import run_rules
from workflow import dumped
from workflow.context import Passage, RunContext
from workflow.domain.errors import RetrievalError
from workflow.domain.inputs import LoadedInputs
from workflow.domain.inventory import Inventory
from workflow.domain.threat_model import Citation, Finding, Phase, PhaseRecord, PhaseStatus
from workflow.recent import Recent
from workflow.state import ThreatModelState, findings_key

__all__ = ["PhaseOutput", "inputs_of", "locate_evidence", "remember_inputs", "run_phase"]

log = structlog.get_logger(__name__)


def inputs_of(state: ThreatModelState) -> LoadedInputs:
    """The run's inputs (and inventory), rebuilt once per process from the state snapshot."""
    cached = _INPUTS.get(_inputs_key(state))
    if cached is None:
        cached = LoadedInputs.from_snapshot(state.get("inputs") or {})
        remember_inputs(state, cached)
    return cached


def remember_inputs(state: ThreatModelState, inputs: LoadedInputs) -> None:
    """Use ``inputs`` for this run's state (the process that loaded them needs no rebuild)."""
    _INPUTS.put(_inputs_key(state), inputs)


def _inputs_key(state: ThreatModelState) -> str:
    return f"{state.get('run_id')}:{state.get('inputs_digest')}"


#: The loaded inputs of the last few runs (runs execute on several threads in a service).
_INPUTS: Recent[str, LoadedInputs] = Recent(4)


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


@dataclass
class PhaseOutput:
    """What a phase produced, before it becomes a state update."""

    findings: list[Finding]
    record: PhaseRecord
    degradations: dict[str, Any]
    usage: dict[str, Any]
    prompts: dict[str, Any]
    llm: dict[str, Any] | None = None
    run_id: str = ""

    def update(self, phase: Phase) -> dict[str, Any]:
        """The state update of this phase."""
        update: dict[str, Any] = {
            findings_key(phase): {f.id: dumped.dump(self.run_id, f) for f in self.findings},
            "phases": {phase.value: self.record.model_dump(mode="json")},
            "degradations": self.degradations,
            "usage": {phase.value: self.usage} if self.usage else {},
            "prompts": self.prompts,
        }
        if self.llm is not None:
            update["llm"] = self.llm
        return update


def _test_delay(phase: Phase) -> None:
    """Test hook: ``KTMB_TEST_PHASE_DELAY=network:30`` sleeps inside that phase."""
    spec = os.environ.get("KTMB_TEST_PHASE_DELAY", "")
    name, _, seconds = spec.partition(":")
    if name == phase.value and seconds:
        time.sleep(float(seconds))


def _citations(findings: list[Finding], ctx: RunContext, phase: Phase,
               degradations: dict[str, Any]) -> dict[str, tuple[Citation, ...]]:
    """The built-in passages that back each rule of these findings, as citations."""
    by_rule: dict[str, tuple[Citation, ...]] = {}
    if ctx.retriever is None:
        return by_rule
    for rule in dict.fromkeys(f.rule for f in findings):
        passages: list[Passage]
        try:
            passages = ctx.retriever.passages_for_rule(rule)
        except RetrievalError as exc:
            degradations[f"{phase.value}:citations"] = {
                "phase": phase.value, "component": "knowledge_base", "reason": str(exc)}
            passages = []
        by_rule[rule] = tuple(p.citation() for p in passages)
    return by_rule


def run_phase(phase: Phase, rules: Sequence[Any], state: ThreatModelState,
              ctx: RunContext | None) -> PhaseOutput:
    """Run a phase: its rules over the inventory, citations, retrieval and model enrichment."""
    ctx = ctx or RunContext()
    started = time.monotonic()
    with structlog.contextvars.bound_contextvars(phase=phase.value):
        if ctx.progress is not None:
            ctx.progress(phase, "started", {})
        inputs = inputs_of(state)
        inv = inputs.inventory
        found = run_rules(rules, inv)
        degradations: dict[str, Any] = {}
        cites = _citations(found, ctx, phase, degradations)
        findings = [locate_evidence(f, inv, cites.get(f.rule)) for f in found]
        _test_delay(phase)
        usage: dict[str, Any] = {}
        prompts: dict[str, Any] = {}
        dropped = 0
        guidance = (state.get("guidance") or {}).get(phase.value)
        if ctx.enrich is not None:
            passages = _retrieve(phase, findings, ctx, degradations)
            result = ctx.enrich(phase, inv, findings, inputs, passages, guidance, ctx)
            findings = result.findings
            dropped = result.dropped
            usage = result.usage
            prompts = result.prompts
            degradations.update(result.degradations)
        status = PhaseStatus.DEGRADED if any(
            d.get("component") == "model" for d in degradations.values()) else PhaseStatus.COMPLETED
        record = PhaseRecord(status=status, findings=len(findings), guidance=guidance,
                             model_items_dropped=dropped)
        log.info("phase_done", findings=len(findings), status=status.value,
                 seconds=round(time.monotonic() - started, 3))
        if ctx.progress is not None:
            ctx.progress(phase, "finished", {"findings": len(findings), "status": status.value})
    return PhaseOutput(findings=findings, record=record, degradations=degradations,
                       usage=usage, prompts=prompts,
                       llm=ctx.llm.info.model_dump(mode="json") if ctx.llm else None,
                       run_id=str(state.get("run_id") or ""))


def retrieval_query(phase: Phase, findings: Sequence[Finding]) -> str:
    """The knowledge-base query of a phase, built from its findings."""
    titles = list(dict.fromkeys(f.title for f in findings))[:8]
    topic = phase.value.replace("_", " ")
    return f"Kubernetes {topic} threats and mitigations: " + "; ".join(titles)


def _retrieve(phase: Phase, findings: Sequence[Finding], ctx: RunContext,
              degradations: dict[str, Any]) -> list[Passage]:
    """Passages for the model; an unavailable knowledge base is recorded, never fatal."""
    if ctx.retriever is None:
        return []
    try:
        return ctx.retriever.search(retrieval_query(phase, findings), k=ctx.top_k, phase=phase)
    except RetrievalError as exc:
        degradations[f"{phase.value}:retrieval"] = {
            "phase": phase.value, "component": "knowledge_base", "reason": str(exc)}
        return []
