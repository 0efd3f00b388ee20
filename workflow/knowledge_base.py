"""The knowledge base on the run's database: opened for a command, a run or the service."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from kb.corpus import corpus_digest
from kb.retrieval import KbRetriever, KnowledgeBase
from kb.store import BUILTIN, Principal
from workflow.db import open_database
from workflow.domain.errors import DatabaseUnavailableError, RetrievalError, StoreError
from workflow.domain.settings import Settings

__all__ = ["knowledge_base_digest", "open_knowledge_base", "open_retriever"]


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


def knowledge_base_digest(settings: Settings, principal: Principal) -> str:
    """A digest of the knowledge base as ``principal`` reads it (it changes with what they read).

    The built-in corpus counts by the digest of the corpus this ktmb ships (ingested on first
    use), every other collection the principal reads by its documents' keys and digests.

    Raises:
        DatabaseUnavailableError: the database cannot be reached.
    """
    store = open_knowledge_base(settings).store
    digest = hashlib.sha256(f"{BUILTIN}\0{corpus_digest()}\n".encode())
    for collection in sorted(store.list_collections(principal), key=lambda c: c.name):
        if collection.name == BUILTIN:
            continue
        for doc in sorted(store.list_documents(principal, collection.name),
                          key=lambda d: d.doc_key):
            digest.update(f"{collection.name}\0{doc.doc_key}\0{doc.sha256}\0{doc.version}\n"
                          .encode())
    return digest.hexdigest()
