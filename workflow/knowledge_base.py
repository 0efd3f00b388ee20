"""The knowledge base on the run's database: opened for a command, a run or the service."""

from __future__ import annotations

from collections.abc import Sequence

from kb.retrieval import KbRetriever, KnowledgeBase
from kb.store import Principal
from workflow.db import open_database
from workflow.domain.errors import DatabaseUnavailableError, RetrievalError, StoreError
from workflow.domain.settings import Settings

__all__ = ["open_knowledge_base", "open_retriever"]


def open_knowledge_base(settings: Settings) -> KnowledgeBase:
    """The knowledge base in the configured database (embedded or ``KTMB_DATABASE_URL``).

    Raises:
        DatabaseUnavailableError: the database cannot be reached.
    """
    return KnowledgeBase(open_database(settings))


def open_retriever(settings: Settings, *, principal: Principal | None = None,
                   collections: Sequence[str] | None = None) -> KbRetriever:
    """A retriever acting for ``principal``, by default the one of ``settings``.

    A run's retriever acts for the run's own principal, given whole: never for this
    process's ``KTMB_USER``/``KTMB_GROUPS``, not even for a run whose creator has no groups.

    Raises:
        RetrievalError: the database cannot be opened.
    """
    principal = principal or Principal.from_settings(settings)
    try:
        kb = open_knowledge_base(settings)
    except (StoreError, DatabaseUnavailableError) as exc:
        raise RetrievalError(f"the knowledge base is unavailable: {exc}") from exc
    return kb.retriever(principal, collections=collections)
