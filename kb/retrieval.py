"""Retrieval for the phase agents: hybrid search (pgvector cosine + full text, RRF k=60).

:class:`KnowledgeBase` ties the store, the embedder and the built-in corpus together;
:meth:`KnowledgeBase.retriever` gives a :class:`KbRetriever` acting for one principal, which
implements :class:`agents.run_context.Retriever`. Every query runs under row-level security as that
principal. Without embeddings (extra missing, Ollama down) retrieval falls back to full text and
says so in :attr:`KbRetriever.notes` (which the phase runner records as a degradation of the
phase that searched); an empty or unreachable knowledge base raises
:class:`workflow.domain.errors.RetrievalError`, which the phase runner records as a degradation.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import structlog

from kb.embeddings import Embedder, EmbeddingsUnavailableError, check_compatible, default_embedder
from kb.ingest import BuiltinStatus, ensure_builtin
from kb.rule_topics import passages_for_topics
from kb.search_mode import SearchMode
from kb.store import BUILTIN, CollectionInfo, KnowledgeStore, Principal, SearchRow
from workflow.domain.errors import (
    ConfigError,
    DatabaseUnavailableError,
    NotFoundError,
    RetrievalError,
    StoreError,
)
from workflow.domain.named_queries import ConnectionSource
from workflow.domain.passages import Passage
from workflow.domain.threat_model import Phase

__all__ = ["RRF_K", "KbRetriever", "KnowledgeBase", "SearchMode", "identifier_terms"]

log = structlog.get_logger(__name__)

RRF_K = 60
"""Reciprocal rank fusion constant (score = sum of 1 / (RRF_K + rank))."""
_IDENT = re.compile(
    r"(?:[A-Za-z]+[-_.:/]?)*(?:[A-Za-z]*\d[\w.-]*|[a-z]+[A-Z]\w*|[A-Z]{2,}_[A-Z_]+|"
    r"[\w-]+\.[\w.-]+|/[\w./-]+)")


def identifier_terms(query: str) -> str | None:
    """Identifier-like tokens of a query (camelCase, ids with digits, dotted names, paths).

    They are matched with the 'simple' text configuration, which keeps them unstemmed.
    """
    terms = [m.group(0).rstrip(".-/:") for m in _IDENT.finditer(query)]
    terms = [t for t in terms if len(t) >= 2]
    return " ".join(dict.fromkeys(terms)) or None


def _passage(row: SearchRow) -> Passage:
    text = row.body
    if row.source:
        text += f"\n\nSource: {row.source}; version: {row.source_version or 'unknown'}."
    return Passage(chunk_id=row.anchor, document=row.doc_key, section=row.section,
                   version=row.version, collection=row.collection, text=text,
                   score=row.score)


def _keywords_only(reason: str) -> str:
    """The note of a search that had no embeddings: full text only, and why."""
    return f"full-text search only: {reason}, so passages were found by keywords"


class KnowledgeBase:
    """The store, the embedder (loaded lazily) and the built-in corpus."""

    def __init__(self, db: ConnectionSource, *, embedder: Embedder | None = None,
                 use_embeddings: bool = True) -> None:
        self.db = db
        self.store = KnowledgeStore(db)
        self._embedder = embedder
        self._embedder_tried = embedder is not None or not use_embeddings
        self.embedder_note = "" if use_embeddings else "embeddings switched off"
        self._builtin: BuiltinStatus | None = None

    @property
    def embedder(self) -> Embedder | None:
        """The embedder, or None when embeddings are unavailable (see :attr:`embedder_note`)."""
        if not self._embedder_tried:
            self._embedder_tried = True
            try:
                self._embedder = default_embedder()
            except EmbeddingsUnavailableError as exc:
                self.embedder_note = str(exc)
                log.warning("kb_embeddings_unavailable", reason=str(exc))
        return self._embedder

    def ensure_builtin(self) -> BuiltinStatus:
        """Ingest the built-in corpus if missing or changed (once per process)."""
        if self._builtin is None:
            self._builtin = ensure_builtin(self.store, self.embedder)
        return self._builtin

    def retriever(self, principal: Principal, *, collections: Sequence[str] | None = None,
                  pool: int = 40, rrf_k: int = RRF_K) -> KbRetriever:
        """A retriever acting for ``principal`` (all readable collections by default)."""
        return KbRetriever(self, principal, collections=collections, pool=pool, rrf_k=rrf_k)


class KbRetriever:
    """Hybrid retrieval for one principal; implements :class:`agents.run_context.Retriever`."""

    def __init__(self, kb: KnowledgeBase, principal: Principal, *,
                 collections: Sequence[str] | None = None, pool: int = 40,
                 rrf_k: int = RRF_K) -> None:
        self.kb = kb
        self.principal = principal
        self.collections = list(collections) if collections else None
        self.pool = pool
        self.rrf_k = rrf_k
        #: What limited the last search (full text only, a collection searched by keywords).
        self.notes: list[str] = []
        self._visible: list[CollectionInfo] | None = None

    def _note(self, text: str) -> None:
        if text and text not in self.notes:
            self.notes.append(text)

    def _collections(self) -> list[CollectionInfo]:
        if self._visible is None:
            visible = self.kb.store.list_collections(self.principal)
            if self.collections is not None:
                names = {c.name for c in visible}
                for name in self.collections:
                    if name not in names:
                        raise NotFoundError(f"no collection {name!r} is readable by you")
                visible = [c for c in visible if c.name in self.collections]
            self._visible = visible
        return self._visible

    def _vector_collections(self, embedder: Embedder) -> list[str]:
        usable = []
        for info in self._collections():
            try:
                check_compatible(embedder, info.name, info.embedding_model, info.dimension)
            except ConfigError:
                if self.collections is not None:
                    raise
                self._note(f"collection {info.name} uses {info.embedding_model}: "
                           "searched by keywords only")
                continue
            usable.append(info.name)
        return usable

    def search(self, query: str, *, k: int = 5, phase: Phase | None = None,
               framework: str | None = None) -> list[Passage]:
        """The top ``k`` passages (hybrid; full text only when embeddings are unavailable).

        Raises:
            RetrievalError: the knowledge base is unreachable or holds nothing readable.
        """
        return self.search_mode(query, mode=SearchMode.HYBRID, k=k, phase=phase,
                                framework=framework)

    def search_mode(self, query: str, *, mode: SearchMode, k: int = 5,
                    phase: Phase | str | None = None,
                    framework: str | None = None) -> list[Passage]:
        """Search with one mode: hybrid, vector-only or text-only.

        Raises:
            RetrievalError: the knowledge base is unreachable, empty, or the mode needs
                embeddings that are unavailable.
            NotFoundError: an explicit collection is not readable.
            ConfigError: an explicit collection was embedded with another model.
        """
        self.notes = []
        query = " ".join(query.split())
        if not query:
            return []
        try:
            self.kb.ensure_builtin()
            vector, vector_collections = self._query_vector(query, mode)
            text = None if mode is SearchMode.VECTOR else query
            rows = self.kb.store.search(
                self.principal, text=text,
                identifiers=identifier_terms(query) if text else None, vector=vector,
                vector_collections=vector_collections, collections=self.collections,
                framework=framework, phase=str(phase) if phase else None, k=k,
                pool=max(self.pool, k), rrf_k=self.rrf_k)
            if not rows and self.kb.store.count_chunks(self.principal, self.collections) == 0:
                raise RetrievalError(
                    f"the knowledge base holds no passages readable by {self.principal.user}")
        except (StoreError, DatabaseUnavailableError) as exc:
            raise RetrievalError(f"the knowledge base is unavailable: {exc}") from exc
        return [_passage(row) for row in rows]

    def _query_vector(self, query: str, mode: SearchMode) -> tuple[
            Sequence[float] | Callable[[], Sequence[float] | None] | None, list[str]]:
        """The question's vector (or, for a hybrid search, a function that waits for it).

        A hybrid search embeds the question on a worker thread while the database ranks the
        full-text legs, and the store asks for the vector only then: the model and PostgreSQL
        work at the same time instead of one after the other.
        """
        if mode is SearchMode.TEXT:
            return None, []
        embedder = self.kb.embedder
        if embedder is None:
            if mode is SearchMode.VECTOR:
                raise RetrievalError(f"vector search is unavailable: {self.kb.embedder_note}")
            self._note(_keywords_only(self.kb.embedder_note))
            return None, []
        collections = self._vector_collections(embedder)
        if mode is SearchMode.VECTOR:
            try:
                return embedder.embed([query])[0], collections
            except EmbeddingsUnavailableError as exc:
                raise RetrievalError(f"vector search is unavailable: {exc}") from exc
        pending = _embedding_pool().submit(embedder.embed, [query])

        def vector() -> Sequence[float] | None:
            try:
                return pending.result()[0]
            except EmbeddingsUnavailableError as exc:
                self._note(_keywords_only(str(exc)))
                return None

        return vector, collections

    def passages_for_topics(self, topics: Sequence[str]) -> list[Passage]:
        """The built-in passages behind topic keys (see ``kb/README.md``)."""
        anchors = passages_for_topics(topics)
        if not anchors:
            return []
        try:
            self.kb.ensure_builtin()
            rows = self.kb.store.by_anchor(self.principal, BUILTIN, anchors)
        except (StoreError, DatabaseUnavailableError) as exc:
            raise RetrievalError(f"the knowledge base is unavailable: {exc}") from exc
        return [_passage(row) for row in rows]


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _embedding_pool() -> ThreadPoolExecutor:
    """One worker thread that embeds questions while the database ranks text."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ktmb-embed")
        return _pool
