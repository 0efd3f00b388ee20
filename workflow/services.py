"""Wiring: the run context of a run (model client, enrichment, knowledge base, progress)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog

from workflow.context import Enrichment, Passage, ProgressHook, RunContext
from workflow.db import Database
from workflow.domain.errors import ConfigError
from workflow.domain.inventory import Inventory
from workflow.domain.settings import Settings
from workflow.domain.threat_model import Finding, Phase
from workflow.run_store import RunInfo

__all__ = ["LLM_PROVIDERS", "ContextBuilder"]

log = structlog.get_logger(__name__)

LLM_PROVIDERS = ("off", "ollama", "llamacpp")


def _merge_recommendation(finding: Finding, text: str, model: str) -> Finding:
    """The model's advice goes beside the rule's recommendation, never into it."""
    return finding.model_copy(update={"model_recommendation": f"({model}) {text.strip()}"})


class ContextBuilder:
    """Builds the run context for a run from its stored options."""

    def __init__(self, settings: Settings, db: Database, *, progress: ProgressHook | None = None,
                 allow_remote_model: bool = False) -> None:
        self.settings = settings
        self.db = db
        self.progress = progress
        self.allow_remote_model = allow_remote_model
        self._clients: dict[tuple[str, str | None], Any] = {}

    def model_client(self, provider: str, model: str | None) -> Any:
        """The (cached) model client for a provider and model; None for ``off``."""
        if provider not in LLM_PROVIDERS:
            raise ConfigError(f"--llm must be one of {', '.join(LLM_PROVIDERS)}, got {provider!r}")
        if provider == "off":
            return None
        key = (provider, model)
        if key not in self._clients:
            from agents.llm import make_model_client

            self._clients[key] = make_model_client(provider, model,
                                                   allow_remote=self.allow_remote_model)
        return self._clients[key]

    def retriever(self, user: str | None = None, groups: list[str] | None = None) -> Any:
        """The knowledge-base retriever acting for a principal (default: the settings')."""
        try:
            from kb.retrieval import open_retriever
        except ImportError:
            return None
        try:
            return open_retriever(self.settings, user=user, groups=groups)
        except Exception as exc:
            log.warning("knowledge_base_unavailable", reason=str(exc).splitlines()[0][:200])
            return None

    def __call__(self, info: RunInfo) -> RunContext:
        """The context of a run."""
        llm = (info.options.get("llm") or {}) if info.options else {}
        client = self.model_client(llm.get("provider", "off"), llm.get("model"))
        ctx = RunContext(retriever=self.retriever(info.created_by, list(info.owner_groups) or None),
                         llm=client, progress=self.progress)
        if client is not None:
            ctx.enrich = self._enricher(info, llm)
        return ctx

    def _enricher(self, info: RunInfo, options: dict[str, Any]) -> Any:
        from agents.enrichment import enrich_phase
        from agents.llm_cache import PgLlmCache

        cache = PgLlmCache(self.db) if options.get("cache", True) else None

        def enrich(phase: Phase, inv: Inventory, findings: list[Finding], inputs: Any,
                   passages: list[Passage], guidance: str | None, ctx: RunContext) -> Enrichment:
            result = enrich_phase(
                phase, inv, findings, passages, inputs.notes, guidance, ctx.llm, cache,
                application=info.application, cloud=options.get("cloud") or "unspecified",
                classification=options.get("classification") or "unspecified")
            model = result.llm.model if result.llm else "model"
            merged: Sequence[Finding] = [
                _merge_recommendation(f, result.recommendations[f.id], model)
                if f.id in result.recommendations else f for f in findings]
            prompts = {ref.id: ref.model_dump(mode="json")
                       for ref in (result.prompt_ref, result.system_prompt_ref) if ref}
            degradations: dict[str, Any] = {}
            if result.degradation:
                degradations[f"{phase.value}:model"] = {
                    "phase": phase.value, "component": "model", "reason": result.degradation}
            usage = result.usage.model_dump(mode="json")
            usage.update({"dropped": result.dropped, "drops": result.drops,
                          "trimmed": list(result.trimmed),
                          "prompt_tokens_estimate": result.prompt_tokens_estimate})
            return Enrichment(findings=[*merged, *result.findings], dropped=result.dropped,
                              usage=usage, prompts=prompts, degradations=degradations)

        return enrich
