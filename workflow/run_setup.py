"""What a run uses, set up from its stored options: the model, the knowledge base, progress.

:class:`RunSetup` turns a run's record (its options and its principal) into the
:class:`~agents.run_context.Services` its context carries. Model clients are kept per process
(loading a GGUF model takes seconds); the knowledge base acts for the run's creator and owner
groups, so a run cites only documents they may read.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from agents.enrichment.enricher import Enricher
from agents.llm.client import ModelClient
from agents.llm.factory import make_model_client
from agents.run_context import ProgressHook, Retriever, Services
from kb.store import Principal
from workflow.db import Database
from workflow.domain.errors import one_line
from workflow.domain.run import LlmProvider, RunOptions
from workflow.domain.settings import Settings
from workflow.llm_cache_store import PgLlmCache
from workflow.run_store import RunInfo

__all__ = ["RunSetup"]

log = structlog.get_logger(__name__)


class RunSetup:
    """Builds the services of each run from its stored options."""

    def __init__(self, settings: Settings, db: Database, *, progress: ProgressHook | None = None,
                 allow_remote_model: bool = False) -> None:
        self.settings = settings
        self.db = db
        self.progress = progress
        self.allow_remote_model = allow_remote_model
        self._clients: dict[tuple[LlmProvider, str | None], ModelClient | None] = {}

    def model_client(self, provider: LlmProvider, model: str | None) -> ModelClient | None:
        """The model client of a provider and model (one per process); None for ``off``.

        Raises:
            ConfigError: the provider or model cannot be used (checked before a run starts).
        """
        key = (provider, model)
        if key not in self._clients:
            self._clients[key] = make_model_client(provider, model,
                                                   allow_remote=self.allow_remote_model)
        return self._clients[key]

    def retriever(self, user: str, groups: Sequence[str]) -> Retriever | None:
        """The knowledge base acting for a run's creator and owner groups; None when it cannot open.

        Exactly those: a run without owner groups reads what its creator alone may read, never
        what this process's ``KTMB_GROUPS`` may. A knowledge base that cannot open is logged.
        """
        from workflow.knowledge_base import open_retriever  # loads the embedder stack

        try:
            return open_retriever(self.settings, principal=Principal.of(user, groups))
        except Exception as exc:  # a run goes on without citations, and says so in the log
            log.warning("knowledge_base_unavailable", reason=one_line(exc, limit=200))
            return None

    def __call__(self, info: RunInfo) -> Services:
        """The services of a run."""
        options = RunOptions.model_validate(info.options)
        client = self.model_client(options.llm.provider, options.llm.model)
        enricher = None
        if client is not None:
            enricher = Enricher(client, PgLlmCache(self.db) if options.llm.cache else None,
                                application=info.application, cloud=options.cloud,
                                classification=options.classification)
        return Services(retriever=self.retriever(info.created_by, info.owner_groups),
                        enricher=enricher, progress=self.progress)
