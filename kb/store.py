"""The knowledge-base store: named SQL (``kb/queries.sql``) over psycopg 3, row-level security.

Every read runs inside a transaction that switches to the non-owner role ``ktmb_reader`` and sets
the principal's groups (``SET LOCAL ROLE`` + ``set_config(..., true)``, so nothing leaks to the
next user of a pooled connection). PostgreSQL then shows only the collections that are public or
shared with one of those groups: counts, searches and joins cannot see anything else. Writes run
as the owner after :meth:`KnowledgeStore.writable_collection` has checked that the principal
belongs to one of the collection's groups.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from pgvector import HalfVector
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, field_validator

from workflow.domain.errors import ConfigError, NotFoundError, StoreError, one_line
from workflow.domain.named_queries import ConnectionSource, load_queries
from workflow.domain.settings import Settings

__all__ = [
    "BUILTIN",
    "CollectionInfo",
    "DocumentInfo",
    "KnowledgeStore",
    "Principal",
    "SearchRow",
    "queries",
    "text_query",
]

BUILTIN = "builtin"
"""Name of the built-in corpus collection (readable by everyone, written only by ktmb)."""

_GROUP_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:/+-]{0,127}$")
_COLLECTION_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_Conn = psycopg.Connection[dict[str, Any]]


def queries() -> dict[str, str]:
    """The named statements of ``kb/queries.sql`` (loaded once)."""
    return load_queries(Path(__file__).with_name("queries.sql"))


def _sql(name: str) -> Any:
    """A named statement, typed for psycopg (the text comes only from queries.sql)."""
    return queries()[name]


class Principal(BaseModel):
    """Who a query or an ingestion acts for: a user and the groups it belongs to."""

    model_config = ConfigDict(frozen=True)

    user: str = "unknown"
    groups: tuple[str, ...] = ()

    @field_validator("user")
    @classmethod
    def _check_user(cls, value: str) -> str:
        value = value.strip()
        if not value or len(value) > 256 or any(ord(ch) < 32 for ch in value):
            raise ValueError("a user name is 1-256 printable characters")
        return value

    @field_validator("groups")
    @classmethod
    def _check_groups(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for group in value:
            if not _GROUP_RE.match(group):
                raise ValueError(
                    f"group {group!r} is not valid: use letters, digits and . _ @ : / + - "
                    "(no commas or spaces, at most 128 characters)")
        return tuple(dict.fromkeys(value))

    @classmethod
    def of(cls, user: str, groups: Sequence[str]) -> Principal:
        """Build a principal, turning a validation problem into a :class:`ConfigError`."""
        try:
            return cls(user=user, groups=tuple(groups))
        except ValueError as exc:
            problem = str(exc).splitlines()
            detail = problem[-1].strip() if problem else "invalid"
            raise ConfigError(f"invalid principal: {detail}") from None

    @classmethod
    def from_settings(cls, settings: Settings, *, user: str | None = None,
                      groups: Sequence[str] | None = None) -> Principal:
        """The principal from options, else from ``KTMB_USER`` / ``KTMB_GROUPS`` (settings)."""
        return cls.of(user or settings.user, list(groups) if groups else list(settings.groups))


class CollectionInfo(BaseModel):
    """A collection as the principal sees it."""

    model_config = ConfigDict(frozen=True)

    name: str
    embedding_model: str
    dimension: int
    read_groups: tuple[str, ...] = ()
    public: bool = False
    corpus_digest: str | None = None
    created_by: str = "unknown"
    documents: int = 0
    chunks: int = 0
    unembedded: int = 0


class DocumentInfo(BaseModel):
    """A document of a collection."""

    model_config = ConfigDict(frozen=True)

    doc_key: str
    source_path: str
    title: str
    version: int
    sha256: str
    chunks: int


class SearchRow(BaseModel):
    """One chunk found by a search."""

    model_config = ConfigDict(frozen=True)

    id: int
    anchor: str
    section: str
    body: str
    collection: str
    doc_key: str
    version: int
    title: str = ""
    source: str | None = None
    source_version: str | None = None
    score: float = 0.0



def check_collection_name(name: str) -> str:
    """Validate a collection name (lower-case letters, digits, ``.``, ``_`` and ``-``)."""
    if not _COLLECTION_RE.match(name):
        raise ConfigError(
            f"collection name {name!r} is not valid: use 1-63 lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit")
    return name


class KnowledgeStore:
    """Named queries over a database connection source, reads under row-level security."""

    def __init__(self, db: ConnectionSource, *, ef_search: int = 100, text_cap: int = 250) -> None:
        self.db = db
        self.ef_search = ef_search
        self.text_cap = text_cap

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def reading(self, principal: Principal) -> Iterator[_Conn]:
        """A read-only transaction acting as ``ktmb_reader`` for ``principal``.

        Raises:
            StoreError: the database failed.
        """
        try:
            with self.db.connection() as conn, conn.transaction():
                conn.execute(_sql("reader_setup"), {
                    "groups": ",".join(principal.groups), "user": principal.user,
                    "ef_search": str(self.ef_search)})
                yield conn
        except psycopg.Error as exc:
            raise StoreError(f"knowledge-base read failed: "
                             f"{one_line(exc, with_type=False)}") from exc

    @contextmanager
    def writing(self, collection: str) -> Iterator[_Conn]:
        """A transaction as the owner, holding the collection's writer lock.

        Raises:
            StoreError: the database failed.
        """
        try:
            with self.db.connection() as conn, conn.transaction():
                conn.execute(_sql("lock_collection"), {"collection": collection})
                yield conn
        except psycopg.Error as exc:
            raise StoreError(f"knowledge-base write failed: "
                             f"{one_line(exc, with_type=False)}") from exc

    # -- collections ----------------------------------------------------------------------

    def visible_collection(self, principal: Principal, name: str) -> CollectionInfo | None:
        """The collection if the principal may read it, else None (absent and hidden look alike)."""
        with self.reading(principal) as conn:
            row = conn.execute(_sql("collection_visible"), {"name": name}).fetchone()
        return _collection(row) if row else None

    def list_collections(self, principal: Principal) -> list[CollectionInfo]:
        """The collections the principal may read, with document and chunk counts."""
        with self.reading(principal) as conn:
            rows = conn.execute(_sql("collections_visible")).fetchall()
        return [_collection(row) for row in rows]

    def list_documents(self, principal: Principal, collection: str) -> list[DocumentInfo]:
        """The documents of a readable collection.

        Raises:
            NotFoundError: the collection does not exist or is not readable.
        """
        with self.reading(principal) as conn:
            if conn.execute(_sql("collection_visible"), {"name": collection}).fetchone() is None:
                raise NotFoundError(f"no collection {collection!r} is readable by you")
            rows = conn.execute(_sql("documents_visible"), {"collection": collection}).fetchall()
        return [DocumentInfo(**row) for row in rows]

    def writable_collection(self, principal: Principal, name: str) -> CollectionInfo | None:
        """The collection if the principal may write it; None if it does not exist.

        A principal may write a collection it can read through one of its groups; the built-in
        collection is written only by ktmb itself.

        Raises:
            ConfigError: the name is reserved, or the collection belongs to other groups.
        """
        check_collection_name(name)
        if name == BUILTIN:
            raise ConfigError(f"the collection {BUILTIN!r} is the built-in corpus; "
                              "choose another name")
        with self.db.connection() as conn:
            row = conn.execute(_sql("collection_owner_view"), {"name": name}).fetchone()
        if row is None:
            return None
        info = _collection(row)
        if not set(info.read_groups) & set(principal.groups):
            raise ConfigError(f"collection {name!r} cannot be used: it exists and none of your "
                              "groups may write it")
        return info

    def create_collection(self, conn: _Conn, *, name: str, embedding_model: str, dimension: int,
                          read_groups: Sequence[str], public: bool, created_by: str) -> None:
        """Create a collection inside a writing transaction (no-op when it exists)."""
        conn.execute(_sql("collection_create"), {
            "name": name, "embedding_model": embedding_model, "dimension": dimension,
            "read_groups": list(read_groups), "public": public, "created_by": created_by})

    def owner_collection(self, conn: _Conn, name: str) -> CollectionInfo | None:
        """The collection as stored (owner view, no row-level security)."""
        row = conn.execute(_sql("collection_owner_view"), {"name": name}).fetchone()
        return _collection(row) if row else None

    def set_digest(self, conn: _Conn, name: str, digest: str) -> None:
        """Record the corpus digest of a collection."""
        conn.execute(_sql("collection_set_digest"), {"name": name, "digest": digest})

    def delete_collection(self, conn: _Conn, name: str) -> None:
        """Delete a collection with its documents and chunks."""
        conn.execute(_sql("collection_delete"), {"name": name})

    # -- documents and chunks -------------------------------------------------------------

    def document_by_path(self, conn: _Conn, collection: str,
                         source_path: str) -> dict[str, Any] | None:
        """A stored document by its source path."""
        return conn.execute(_sql("document_by_path"),
                            {"collection": collection, "source_path": source_path}).fetchone()

    def document_by_key(self, conn: _Conn, collection: str, doc_key: str) -> dict[str, Any] | None:
        """A stored document by its key."""
        return conn.execute(_sql("document_by_key"),
                            {"collection": collection, "doc_key": doc_key}).fetchone()

    def document_keys(self, conn: _Conn, collection: str) -> list[str]:
        """All document keys of a collection."""
        rows = conn.execute(_sql("document_keys"), {"collection": collection}).fetchall()
        return [str(row["doc_key"]) for row in rows]

    def insert_document(self, conn: _Conn, *, collection: str, doc_key: str, source_path: str,
                        title: str, sha256: str, metadata: dict[str, Any],
                        ingested_by: str) -> tuple[int, int]:
        """Insert a document; returns (id, version)."""
        row = conn.execute(_sql("document_insert"), {
            "collection": collection, "doc_key": doc_key, "source_path": source_path,
            "title": title, "sha256": sha256, "metadata": Jsonb(metadata),
            "ingested_by": ingested_by}).fetchone()
        assert row is not None  # noqa: S101 - RETURNING always yields a row
        return int(row["id"]), int(row["version"])

    def update_document(self, conn: _Conn, *, doc_id: int, source_path: str, title: str,
                        sha256: str, metadata: dict[str, Any],
                        ingested_by: str) -> tuple[int, int]:
        """Replace a document's digest and metadata and bump its version; drops its chunks."""
        conn.execute(_sql("chunks_delete_for_document"), {"document_id": doc_id})
        row = conn.execute(_sql("document_update"), {
            "id": doc_id, "source_path": source_path, "title": title, "sha256": sha256,
            "metadata": Jsonb(metadata), "ingested_by": ingested_by}).fetchone()
        assert row is not None  # noqa: S101 - RETURNING always yields a row
        return int(row["id"]), int(row["version"])

    def delete_document(self, conn: _Conn, doc_id: int) -> None:
        """Delete a document and its chunks."""
        conn.execute(_sql("document_delete"), {"id": doc_id})

    def insert_chunks(self, conn: _Conn, rows: Sequence[dict[str, Any]]) -> None:
        """Insert chunks (each a dict of the ``chunk_insert`` parameters)."""
        if not rows:
            return
        prepared = [{**row, "embedding": HalfVector(row["embedding"])
                     if row.get("embedding") is not None else None} for row in rows]
        with conn.cursor() as cur:
            cur.executemany(_sql("chunk_insert"), prepared)

    def copy_chunks(self, conn: _Conn, rows: Sequence[tuple[Any, ...]]) -> None:
        """Bulk-load chunks with binary COPY.

        Each row is (document_id, collection, anchor, ordinal, section, body, frameworks,
        phases, embedding).
        """
        with conn.cursor() as cur, cur.copy(_sql("chunks_copy")) as copy:
            copy.set_types(["bigint", "text", "text", "integer", "text", "text", "text[]",
                            "text[]", "halfvec"])
            for row in rows:
                copy.write_row(row)

    def drop_search_indexes(self, conn: _Conn) -> None:
        """Drop the vector and text indexes before a bulk load (rebuild them afterwards)."""
        conn.execute(_sql("bulk_drop_indexes"))

    def build_search_indexes(self, conn: _Conn) -> dict[str, float]:
        """(Re)build the HNSW and GIN indexes and analyse; returns seconds per step."""
        timings: dict[str, float] = {}
        conn.execute(_sql("bulk_build_memory"))
        for step in ("bulk_create_embedding_index", "bulk_create_text_indexes",
                     "bulk_create_simple_index", "bulk_analyze"):
            start = time.perf_counter()
            conn.execute(_sql(step))
            timings[step.removeprefix("bulk_")] = time.perf_counter() - start
        return timings

    def unembedded(self, conn: _Conn, collection: str, limit: int) -> list[dict[str, Any]]:
        """Chunks of a collection that have no embedding yet."""
        return conn.execute(_sql("chunks_unembedded"),
                            {"collection": collection, "limit": limit}).fetchall()

    def set_embeddings(self, conn: _Conn, items: Sequence[tuple[int, Sequence[float]]]) -> None:
        """Store embeddings for chunk ids."""
        with conn.cursor() as cur:
            cur.executemany(_sql("chunk_set_embedding"),
                            [{"id": cid, "embedding": HalfVector(list(vec))} for cid, vec in items])

    # -- reads ----------------------------------------------------------------------------

    def count_chunks(self, principal: Principal,
                     collections: Sequence[str] | None = None) -> int:
        """How many chunks the principal can read."""
        with self.reading(principal) as conn:
            row = conn.execute(_sql("chunk_count_visible"), {
                "collections": list(collections) if collections is not None else None}).fetchone()
        return int(row["n"]) if row else 0

    def by_anchor(self, principal: Principal, collection: str,
                  anchors: Sequence[str]) -> list[SearchRow]:
        """Readable chunks by stable anchor, in the order of ``anchors``."""
        with self.reading(principal) as conn:
            rows = conn.execute(_sql("chunks_by_anchor"),
                                {"collection": collection, "anchors": list(anchors)}).fetchall()
        return [SearchRow(**row) for row in rows]

    def search(self, principal: Principal, *, text: str | None, identifiers: str | None,
               vector: Sequence[float] | Callable[[], Sequence[float] | None] | None,
               vector_collections: Sequence[str],
               collections: Sequence[str] | None, framework: str | None, phase: str | None,
               k: int, pool: int, rrf_k: int) -> list[SearchRow]:
        """Run the fused search (either half is off when its input is None).

        ``vector`` may be a function that returns the question's vector (or None): it is
        called after the full-text legs have run, so a caller can embed the question while
        the database ranks text (the two overlap on separate cores).
        """
        params: dict[str, Any] = {
            "collections": list(collections) if collections is not None else None,
            "framework": framework, "phase": phase, "k": k, "pool": pool, "rrf_k": rrf_k,
            "text_cap": self.text_cap,
        }
        text_ids: list[int] = []
        text_ranks: list[int] = []
        with self.reading(principal) as conn:
            if text:
                params.update(self._text_queries(conn, text, identifiers, params["collections"],
                                                 pool))
                for row in conn.execute(_sql("search_text_ranks"), params).fetchall():
                    text_ids.append(int(row["id"]))
                    text_ranks.append(int(row["rnk"]))
            query_vector = vector() if callable(vector) else vector
            params.update({
                "qvec": HalfVector(list(query_vector)) if query_vector is not None else None,
                "use_vector": query_vector is not None,
                "vector_collections": list(vector_collections),
                "text_ids": text_ids, "text_ranks": text_ranks})
            rows = conn.execute(_sql("search"), params).fetchall()
        return [SearchRow(**row) for row in rows]

    def _text_queries(self, conn: _Conn, text: str, identifiers: str | None,
                      collections: list[str] | None, pool: int) -> dict[str, str | None]:
        """The candidate and ranking queries of both text legs (see :func:`text_query`)."""
        rows = conn.execute(_sql("query_words"), {
            "text": text, "identifiers": identifiers, "collections": collections}).fetchall()
        chunks = 0
        words: dict[bool, list[tuple[str, int]]] = {False: [], True: []}
        for row in rows:
            if row["word"] is None:
                chunks = int(row["chunks"])
            else:
                words[bool(row["simple"])].append((str(row["word"]), int(row["chunks"])))
        queries: dict[str, str | None] = {}
        for prefix, simple in (("en", False), ("id", True)):
            chosen = text_query(words[simple], chunks=chunks, cap=self.text_cap, pool=pool)
            queries[f"{prefix}_candidates"], queries[f"{prefix}_ranking"] = chosen or (None, None)
        return queries


def text_query(words: Sequence[tuple[str, int]], *, chunks: int, cap: int,
               pool: int) -> tuple[str, str] | None:
    """The (candidate, ranking) tsquery texts of one full-text leg; None without words.

    ``words`` are the query's words (tsquery text) with how many searched chunks contain each,
    ``chunks`` how many chunks are searched. The ranking query ORs all words. The candidate
    query is the same while it cannot match more than ``cap`` chunks (always the case on small
    collections). Otherwise it ORs the rarest words while their counts add up to at most
    ``cap``; if they give fewer than ``pool`` candidates, it adds the conjunction of the most
    selective remaining words (as many as needed for an expected ``cap`` matches, assuming
    independence). The search ranks at most ``cap`` candidates whatever the estimates say.
    """
    counts = dict(words)
    if not counts:
        return None
    ranking = " | ".join(f"( {word} )" for word in counts)
    if min(chunks, sum(counts.values())) <= cap:
        return ranking, ranking
    chosen: list[str] = []
    common: list[tuple[str, int]] = []
    total = 0
    for word, count in sorted(counts.items(), key=lambda pair: pair[1]):
        if total + count <= cap:
            chosen.append(f"( {word} )")
            total += count
        else:
            common.append((word, count))
    if total < pool and common:
        group: list[str] = []
        expected = float(chunks)
        for word, count in common:
            group.append(f"( {word} )")
            expected *= count / chunks
            if expected <= cap:
                break
        chosen.append("( " + " & ".join(group) + " )")
    return " | ".join(chosen), ranking


def _collection(row: dict[str, Any]) -> CollectionInfo:
    data = dict(row)
    data["read_groups"] = tuple(data.get("read_groups") or ())
    return CollectionInfo(**data)
