"""Model enrichment of one phase, in four steps: prompt, cache, ask, ground.

:class:`Enricher` asks the local model for threats the rules cannot see and for
recommendations on the rule findings, then keeps only what is grounded:

1. **prompt** (:mod:`agents.enrichment.prompt`): the system prompt plus the phase's prompt,
   filled with the inventory as the phase's view shows it, the phase's rule findings (ids and
   titles), the retrieved passages, the architecture and review notes, and the reviewer's
   guidance, within an explicit token budget. Manifest text and notes are wrapped in data
   sections; the system prompt tells the model they are data, never instructions;
2. **cache**: an answer to the very same prompt, model and schema is taken from the cache;
3. **ask**: otherwise the model answers in the schema of :class:`PhaseAnswer`; a failure (host
   down, timeout, invalid after re-asks) becomes the result's ``degradation`` and is never
   raised, so the phase keeps its rule findings;
4. **ground** (:mod:`agents.enrichment.grounding`): every item is checked; unknown resources,
   citations and finding ids, invalid values, empty and duplicate items are dropped and
   counted. Scores and severities are computed in code; framework references never come from
   the model.

Enrichment only ever *adds* findings and recommendations (:meth:`EnrichmentResult.apply`): it
has no way to remove, change or lower a rule finding, so instructions smuggled into manifests
or notes cannot weaken the threat model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.enrichment.answer import RawPhaseAnswer, Usage
from agents.enrichment.grounding import ground
from agents.enrichment.prompt import (
    Budget,
    NotesInput,
    PreparedPrompt,
    estimate_tokens,
    prepare_prompt,
)
from agents.facts.derived import Facts
from agents.llm.client import ModelClient
from agents.llm_cache import CachedAnswer, LlmCache, cache_key
from agents.phase import PhaseSpec
from workflow.domain.errors import KtmbError, RunError
from workflow.domain.passages import Passage
from workflow.domain.threat_model import Finding, LlmInfo, Phase, PromptRef

__all__ = ["Enricher", "EnrichmentResult"]

log = structlog.get_logger(__name__)


class EnrichmentResult(BaseModel):
    """What enrichment adds to a phase (it never removes or changes anything)."""

    model_config = ConfigDict(frozen=True)

    phase: Phase
    findings: tuple[Finding, ...] = Field(default=(), description="New model findings.")
    recommendations: dict[str, str] = Field(
        default_factory=dict, description="Rule finding id -> the model's recommendation.")
    paths: tuple[dict[str, Any], ...] = Field(
        default=(), description="Attack paths the model proposes (well formed; the reviewer "
        "checks them against its attack graph).")
    proposed: int = Field(default=0, description="Model items examined (see drops).")
    dropped: int = 0
    drops: dict[str, int] = Field(default_factory=dict, description="Dropped items by reason.")
    prompt_ref: PromptRef | None = None
    system_prompt_ref: PromptRef | None = None
    llm: LlmInfo | None = None
    usage: Usage = Usage()
    prompt_tokens_estimate: int = 0
    trimmed: tuple[str, ...] = Field(
        default=(), description="Passage ids left out to fit the token budget.")
    trimmed_facts: tuple[str, ...] = Field(
        default=(), description="Other inputs left out: resource:<id>, finding:<id>, notes:<n>.")
    cache_key: str | None = None
    cache_error: str | None = None
    degradation: str | None = Field(
        default=None, description="Why the model could not help; the phase keeps its rules.")

    def apply(self, findings: Sequence[Finding]) -> list[Finding]:
        """The phase's findings with the model's advice beside theirs, then its new findings.

        The advice goes into ``model_recommendation``, never into the rule's recommendation.
        """
        model = self.llm.model if self.llm else "model"
        advised = [f.model_copy(update={"model_recommendation":
                                        f"({model}) {self.recommendations[f.id].strip()}"})
                   if f.id in self.recommendations else f for f in findings]
        return [*advised, *self.findings]

    def prompt_refs(self) -> dict[str, Any]:
        """The prompts used, as the run records them (by prompt id)."""
        return {ref.id: ref.model_dump(mode="json")
                for ref in (self.prompt_ref, self.system_prompt_ref) if ref}

    def usage_record(self) -> dict[str, Any]:
        """What the phase cost and what was dropped or trimmed, as the run records it."""
        return {**self.usage.model_dump(mode="json"), "dropped": self.dropped,
                "drops": self.drops, "trimmed": list(self.trimmed),
                "prompt_tokens_estimate": self.prompt_tokens_estimate}


class Enricher:
    """The model enrichment of a run's phases: one model, one cache, one application.

    Args:
        llm: the model.
        cache: the answer cache; None asks the model every time.
        application: the application's name, shown in the prompts.
        cloud: the target cloud, shown in the prompts.
        classification: the data classification, shown in the prompts.
        budget: the context budget of each call.
        count_tokens: the token counter used for the budget.
    """

    def __init__(self, llm: ModelClient, cache: LlmCache | None = None, *,
                 application: str = "application", cloud: str | None = None,
                 classification: str | None = None, budget: Budget | None = None,
                 count_tokens: Callable[[str], int] = estimate_tokens) -> None:
        self.llm = llm
        self.cache = cache
        self.application = application
        self.cloud = cloud or "unspecified"
        self.classification = classification or "unspecified"
        self.budget = budget or Budget()
        self.count_tokens = count_tokens

    @property
    def info(self) -> LlmInfo:
        """The model that enriches the run."""
        return self.llm.info

    def enrich(self, spec: PhaseSpec, facts: Facts, findings: Sequence[Finding],
               passages: Sequence[Passage], notes: NotesInput, guidance: str | None, *,
               prompt_version: int | None = None) -> EnrichmentResult:
        """Ask the model about one phase and keep only what is grounded.

        Args:
            spec: the phase.
            facts: the run's facts.
            findings: the phase's rule findings (never modified).
            passages: retrieved passages, best first.
            notes: architecture and review notes.
            guidance: the reviewer's guidance on a rerun, if any.
            prompt_version: the phase prompt's version (the newest when None).

        Raises:
            PromptError: when the prompt files are missing or malformed (a packaging error).
        """
        prompt = prepare_prompt(spec, facts, findings, passages, notes, guidance,
                                application=self.application, cloud=self.cloud,
                                classification=self.classification, budget=self.budget,
                                prompt_version=prompt_version, count_tokens=self.count_tokens)
        base: dict[str, Any] = {
            "phase": spec.phase, "prompt_ref": prompt.phase_ref,
            "system_prompt_ref": prompt.system_ref, "llm": self.info,
            "prompt_tokens_estimate": prompt.tokens, "trimmed": tuple(prompt.trimmed),
            "trimmed_facts": tuple(prompt.trimmed_facts)}
        ref = prompt.phase_ref
        bound = log.bind(phase=spec.phase.value, prompt_id=ref.id, prompt_version=ref.version,
                         prompt_sha256=ref.sha256[:12])
        if prompt.trimmed or prompt.trimmed_facts:
            bound.warning("llm_prompt_trimmed", passages=len(prompt.trimmed),
                          other=len(prompt.trimmed_facts), tokens=prompt.tokens)
        if not prompt.fits:
            reason = (f"the prompt needs {prompt.tokens} tokens even without optional inputs; "
                      f"the budget is {self.budget.prompt_limit}")
            bound.warning("llm_phase_degraded", reason=reason)
            return EnrichmentResult(**base, degradation=reason)
        key = self._key(prompt)
        base["cache_key"] = key
        answer, cache_error = self._cached(key, bound)
        usage = Usage(cached_calls=1)
        if answer is None:
            asked = self._ask(prompt, bound)
            if isinstance(asked, str):
                return EnrichmentResult(**base, usage=Usage(calls=1), cache_error=cache_error,
                                        degradation=asked)
            answer, usage = asked
            cache_error = self._store(key, prompt, answer, usage, bound) or cache_error
        grounded = ground(answer, phase=spec.phase, assembly=prompt, llm=self.info)
        dropped = sum(grounded.drops.values())
        bound.info("llm_phase_enriched", findings=len(grounded.findings),
                   recommendations=len(grounded.recommendations), proposed=grounded.proposed,
                   dropped=dropped, cached=usage.cached_calls > 0)
        return EnrichmentResult(
            **base, findings=tuple(grounded.findings), recommendations=grounded.recommendations,
            paths=tuple(grounded.paths), proposed=grounded.proposed, dropped=dropped,
            drops=dict(sorted(grounded.drops.items())), usage=usage, cache_error=cache_error)

    # ---- the steps ---------------------------------------------------------------------------
    def _key(self, prompt: PreparedPrompt) -> str:
        ref = prompt.phase_ref
        return cache_key(provider=self.info.provider, model=self.info.model, prompt_id=ref.id,
                         prompt_version=ref.version, prompt_sha256=ref.sha256,
                         schema=RawPhaseAnswer.model_json_schema(),
                         num_ctx=self.budget.num_ctx, system=prompt.system,
                         prompt=prompt.prompt)

    def _cached(self, key: str, bound: Any) -> tuple[RawPhaseAnswer | None, str | None]:
        """The cached answer to this prompt, if any (an unavailable cache is recorded)."""
        if self.cache is None:
            return None, None
        try:
            hit = self.cache.get(key)
        except KtmbError as exc:
            bound.warning("llm_cache_unavailable", error=str(exc))
            return None, str(exc)
        if hit is None:
            return None, None
        try:
            return RawPhaseAnswer.model_validate(hit.answer), None
        except ValidationError:
            bound.warning("llm_cache_entry_invalid", key=key[:12])
            return None, None

    def _ask(self, prompt: PreparedPrompt, bound: Any) -> tuple[RawPhaseAnswer, Usage] | str:
        """The model's answer and its cost, or why there is none (never raised)."""
        started = time.monotonic()
        try:
            reply = self.llm.structured(RawPhaseAnswer, system=prompt.system,
                                        prompt=prompt.prompt, num_ctx=self.budget.num_ctx)
            answer = RawPhaseAnswer.model_validate(reply.value)
        except RunError as exc:
            bound.warning("llm_phase_degraded", reason=str(exc))
            return str(exc)
        except Exception as exc:  # a model backend must never fail the run
            reason = f"the model call failed unexpectedly ({exc.__class__.__name__})"
            bound.error("llm_phase_degraded", reason=reason)
            return reason
        bound.info("llm_phase_answered", seconds=round(time.monotonic() - started, 3),
                   prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens)
        return answer, Usage(calls=1, prompt_tokens=reply.prompt_tokens,
                             completion_tokens=reply.completion_tokens)

    def _store(self, key: str, prompt: PreparedPrompt, answer: RawPhaseAnswer, usage: Usage,
               bound: Any) -> str | None:
        """Keep a new answer in the cache; why not, when the cache is unavailable."""
        if self.cache is None:
            return None
        ref = prompt.phase_ref
        try:
            self.cache.put(CachedAnswer(
                key=key, provider=self.info.provider, model=self.info.model,
                model_digest=self.info.digest, prompt_id=ref.id, prompt_version=ref.version,
                prompt_sha256=ref.sha256, answer=answer.model_dump(mode="json"),
                prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens))
        except KtmbError as exc:
            bound.warning("llm_cache_unavailable", error=str(exc))
            return str(exc)
        return None
