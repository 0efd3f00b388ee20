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


def open_retriever(settings: Settings, *, user: str | None = None,
                   groups: Sequence[str] | None = None,
                   collections: Sequence[str] | None = None) -> KbRetriever:
    """A retriever for the principal of ``settings`` (or the given user and groups).

    Raises:
        RetrievalError: the database cannot be opened.
    """
    principal = Principal.from_settings(settings, user=user, groups=groups)
    try:
        kb = open_knowledge_base(settings)
    except (StoreError, DatabaseUnavailableError) as exc:
        raise RetrievalError(f"the knowledge base is unavailable: {exc}") from exc
    return kb.retriever(principal, collections=collections)
