"""The run context: a run's objects in this process, passed by LangGraph to every node.

LangGraph does not checkpoint the context (``context_schema``): it holds what a checkpoint must
not or need not hold. :mod:`workflow.runs` builds it once per process for a run (from the
inputs it loaded, or from the checkpointed inputs snapshot when it resumes a run) and passes
it to every invocation of the graph; ``ktmb scan`` builds one for its single pass.

It carries:

- the run's loaded inputs and the :class:`~agents.facts.derived.Facts` derived from them;
- the rules the run runs (``--rules`` and ``--skip-rules``, a
  :class:`~agents.rule_selection.RuleSelection`);
- the run's findings as models, by phase: the phase node that produces them and the gate that
  edits them write them here and to the checkpointed state alike, so the phases and the
  reviewer that come later read models instead of re-validating the state's JSON;
- the reviewer's threat model, handed to the run that stores it;
- the triage decisions the run re-applies (stored ones, checkpointed when the run starts, and
  the repository's suppressions file and annotations, part of its inputs) and the baseline it
  is compared with (a compact snapshot, checkpointed when the run starts);
- the services of the run: the knowledge base, the model enrichment, a progress hook.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from agents.facts.derived import Facts
from agents.rule_selection import RuleSelection
from workflow.domain.baseline import BaselineSnapshot
from workflow.domain.inputs import LoadedInputs
from workflow.domain.passages import Passage
from workflow.domain.run_state import phase_findings
from workflow.domain.threat_model import PHASES, Finding, LlmInfo, Phase, ThreatModel
from workflow.domain.triage import TriageDecision, TriageSet

if TYPE_CHECKING:  # the enricher's types only: a run without a model loads no enrichment
    from agents.enrichment.enricher import EnrichmentResult
    from agents.enrichment.prompt import NotesInput
    from agents.phase import PhaseSpec

__all__ = ["PhaseEnricher", "ProgressHook", "Retriever", "RunContext", "Services", "today",
           "triage_set"]


def today() -> date:
    """The day triage expiries are judged against (UTC).

    Test hook: ``KTMB_TEST_TODAY=2030-01-01`` stands for another day (an acceptance that
    expires between two runs).
    """
    forced = os.environ.get("KTMB_TEST_TODAY", "")
    return date.fromisoformat(forced) if forced else datetime.now(UTC).date()


def triage_set(inputs: LoadedInputs, stored: Sequence[Mapping[str, Any]] = (),
               baseline: BaselineSnapshot | None = None) -> TriageSet:
    """The decisions a run applies.

    ``stored`` ones (JSON, the application's), then the baseline model's for the findings they
    do not name, and the inputs' suppressions (suppressions file, annotations).
    """
    decisions = {d.finding: d for d in baseline.decisions} if baseline is not None else {}
    decisions.update({d.finding: d for d in (TriageDecision.model_validate(s) for s in stored)})
    return TriageSet(decisions=decisions, suppressions=tuple(inputs.suppressions))


class Retriever(Protocol):
    """Hybrid search over the knowledge base, as the phases use it (``kb.retrieval``)."""

    def search(self, query: str, *, k: int = 5, phase: Phase | None = None,
               framework: str | None = None) -> list[Passage]:
        """The top ``k`` passages for ``query``."""
        ...

    def passages_for_topics(self, topics: Sequence[str]) -> list[Passage]:
        """The built-in passages of topic keys (a rule's ``kb_topics``), for citations."""
        ...

    @property
    def notes(self) -> Sequence[str]:
        """What limited the last search (full text only, say); empty when nothing did."""
        ...


class PhaseEnricher(Protocol):
    """The model enrichment of a run's phases (:class:`agents.enrichment.enricher.Enricher`)."""

    @property
    def info(self) -> LlmInfo:
        """The model that enriches the run."""
        ...

    def enrich(self, spec: PhaseSpec, facts: Facts, findings: Sequence[Finding],
               passages: Sequence[Passage], notes: NotesInput,
               guidance: str | None) -> EnrichmentResult:
        """What the model adds to one phase (never raises for a model failure)."""
        ...


#: (phase, event, details) -> None; shows progress (``started``, ``finished``).
ProgressHook = Callable[[Phase, str, dict[str, Any]], None]


@dataclass(frozen=True)
class Services:
    """What a run uses but does not own: the knowledge base, the model, a progress hook.

    Attributes:
        retriever: the knowledge base, acting for the run's principal; None without one.
        enricher: the model enrichment; None when the run has no model (``--llm off``).
        progress: called when a phase starts and finishes.
        top_k: passages retrieved for a phase's prompt.
    """

    retriever: Retriever | None = None
    enricher: PhaseEnricher | None = None
    progress: ProgressHook | None = None
    top_k: int = 5


@dataclass
class RunContext:
    """A run's objects in this process (not checkpointed)."""

    inputs: LoadedInputs
    services: Services = field(default_factory=Services)
    #: The rules this run runs (its options' ``rules`` and ``skip_rules``).
    rules: RuleSelection = field(default_factory=RuleSelection)
    #: The run's findings by phase and id, as the checkpointed state holds them.
    findings: dict[Phase, dict[str, Finding]] = field(default_factory=dict)
    #: The reviewer's threat model, once the reviewer node has run in this process.
    model: ThreatModel | None = None
    #: The triage decisions the run re-applies to its findings.
    triage: TriageSet = field(default_factory=TriageSet)
    #: The baseline model the run is compared with, if any.
    baseline: BaselineSnapshot | None = None
    #: The day expiries are judged against.
    today: date = field(default_factory=today)

    @cached_property
    def facts(self) -> Facts:
        """The facts derived from the run's inventory and profile (computed once per run)."""
        return Facts(self.inputs.inventory, profile=self.inputs.profile)

    @classmethod
    def resumed(cls, state: Mapping[str, Any], services: Services | None = None,
                rules: RuleSelection | None = None) -> RunContext:
        """The context of a run continued from its checkpointed ``state``.

        The inputs come from the state's snapshot (never from files that may have changed)
        and the findings of the phases that ran are validated from the state once.
        """
        findings = {phase: {fid: Finding.model_validate(data)
                            for fid, data in phase_findings(state, phase).items()}
                    for phase in PHASES}
        inputs = LoadedInputs.from_snapshot(state.get("inputs") or {})
        stored = state.get("baseline")
        baseline = BaselineSnapshot.model_validate(stored) if stored else None
        return cls(inputs=inputs, services=services or Services(),
                   rules=rules or RuleSelection(),
                   findings={p: f for p, f in findings.items() if f},
                   triage=triage_set(inputs, (state.get("triage") or {}).get("decisions", ()),
                                     baseline),
                   baseline=baseline)

    def all_findings(self) -> list[Finding]:
        """Every phase's findings, in phase order."""
        return [f for phase in PHASES for f in self.findings.get(phase, {}).values()]

    def chainable_findings(self, before: Phase) -> tuple[Finding, ...]:
        """The findings of the phases before ``before`` that reviewers kept open.

        What a later phase may build on (the risk review chains them into attack paths): a
        finding removed at a gate is gone from the run, and one marked false positive,
        mitigated or accepted is not a step an attacker can take.
        """
        earlier = PHASES[:PHASES.index(before)]
        return tuple(f for phase in earlier for f in self.findings.get(phase, {}).values()
                     if f.is_open)
