"""Ingestion: parse files, embed their chunks, and upsert them idempotently into the store.

Files are parsed by :mod:`kb.documents`. A document is keyed by its resolved path within a
collection: unchanged bytes change nothing, changed bytes replace its chunks and bump its version.
A file that cannot be read yields one error line and the other files go on. Chunks stored without
a vector (embeddings unavailable) are embedded on a later ingestion.

The built-in corpus is (re)ingested by :func:`ensure_builtin` whenever its digest differs from the
one recorded on the ``builtin`` collection.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import structlog
from pydantic import BaseModel

from kb.corpus import corpus_digest, load_corpus
from kb.documents import (
    SUPPORTED_SUFFIXES,
    ChunkSpec,
    DocumentFileError,
    ParsedDocument,
    parse_bytes,
    read_bytes,
)
from kb.embeddings import DIMENSION, MINILM, Embedder, check_compatible
from kb.store import BUILTIN, KnowledgeStore, Principal, check_collection_name
from workflow.domain.errors import ConfigError
from workflow.domain.redaction import Redactor

__all__ = [
    "BuiltinStatus",
    "FileResult",
    "IngestReport",
    "backfill_embeddings",
    "embedding_text",
    "ensure_builtin",
    "ingest_paths",
]

log = structlog.get_logger(__name__)

_EMBED_BATCH = 128


class FileResult(BaseModel):
    """What happened to one file."""

    path: str
    status: Literal["added", "updated", "unchanged", "error"]
    document: str | None = None
    version: int | None = None
    chunks: int = 0
    error: str | None = None


class IngestReport(BaseModel):
    """The outcome of one ingestion."""

    collection: str
    files: list[FileResult] = []
    embedded: bool = True
    note: str = ""

    @property
    def failed(self) -> list[FileResult]:
        """Files that could not be ingested."""
        return [f for f in self.files if f.status == "error"]


class BuiltinStatus(BaseModel):
    """The outcome of :func:`ensure_builtin`."""

    digest: str
    changed: bool
    documents: int
    passages: int
    embedded: bool
    note: str = ""


def embedding_text(section: str, text: str, title: str = "") -> str:
    """What is embedded for a chunk: document title and heading, then its text."""
    head = " - ".join(part for part in (title, section) if part)
    return f"{head}\n{text}" if head else text


def _expand(paths: Sequence[Path]) -> list[Path | tuple[Path, str]]:
    out: list[Path | tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*")
                           if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
            if not found:
                out.append((path, "the directory holds no supported files"))
            out.extend(found)
        elif path.exists():
            out.append(path)
        else:
            out.append((path, "no such file"))
    return out


def _doc_key(path: Path) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:48] or "doc"
    return f"{stem}-{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"


def _embed(embedder: Embedder | None, chunks: Sequence[ChunkSpec],
           title: str) -> list[list[float] | None]:
    if embedder is None:
        return [None] * len(chunks)
    vectors: list[list[float] | None] = []
    texts = [embedding_text(c.section, c.text, title) for c in chunks]
    for start in range(0, len(texts), _EMBED_BATCH):
        vectors.extend(embedder.embed(texts[start:start + _EMBED_BATCH]))
    return vectors


def _chunk_rows(doc_id: int, collection: str, doc_key: str, chunks: Sequence[ChunkSpec],
                vectors: Sequence[list[float] | None]) -> list[dict[str, Any]]:
    rows = []
    seen: set[str] = set()
    for ordinal, (chunk, vector) in enumerate(zip(chunks, vectors, strict=True)):
        anchor = chunk.anchor if chunk.anchor else f"{doc_key}#{ordinal}"
        if chunk.anchor and collection != BUILTIN:
            anchor = f"{doc_key}#{chunk.anchor}"
        if anchor in seen:
            anchor = f"{anchor}~{ordinal}"
        seen.add(anchor)
        rows.append({"document_id": doc_id, "collection": collection, "anchor": anchor,
                     "ordinal": ordinal, "section": chunk.section, "body": chunk.text,
                     "frameworks": list(chunk.frameworks), "phases": list(chunk.phases),
                     "embedding": vector})
    return rows


def _prepare_collection(store: KnowledgeStore, principal: Principal, collection: str,
                        groups: Sequence[str], embedder: Embedder | None) -> list[str]:
    check_collection_name(collection)
    existing = store.writable_collection(principal, collection)
    if existing is not None:
        if embedder is not None:
            check_compatible(embedder, collection, existing.embedding_model, existing.dimension)
        return list(existing.read_groups)
    read_groups = list(dict.fromkeys(groups)) or list(principal.groups)
    if not read_groups:
        raise ConfigError("a new collection needs at least one group: pass --group or set "
                          "KTMB_GROUPS")
    if not set(read_groups) & set(principal.groups):
        raise ConfigError("you must belong to at least one of the collection's groups "
                          f"({', '.join(read_groups)})")
    Principal.of(principal.user, read_groups)  # validates the names
    with store.writing(collection) as conn:
        store.create_collection(
            conn, name=collection, embedding_model=embedder.model if embedder else MINILM,
            dimension=embedder.dimension if embedder else DIMENSION, read_groups=read_groups,
            public=False, created_by=principal.user)
        created = store.owner_collection(conn, collection)
    if created is None or not set(created.read_groups) & set(principal.groups):
        raise ConfigError(f"collection {collection!r} cannot be used")
    log.info("kb_collection_created", collection=collection, groups=read_groups)
    return read_groups


def ingest_paths(store: KnowledgeStore, principal: Principal, paths: Sequence[Path], *,
                 collection: str, redactor: Redactor, groups: Sequence[str] = (),
                 embedder: Embedder | None, max_bytes: int = 20 * 1024 * 1024,
                 embed_note: str = "") -> IngestReport:
    """Ingest files and directories into a collection the principal may write.

    A document's text is redacted like architecture notes before it is chunked, embedded or
    stored (``redactor``: the installation's), so a secret in a team's document never reaches
    the knowledge base, a prompt or a citation.

    Raises:
        ConfigError: the collection cannot be used by this principal or embedder.
        StoreError: the database failed.
    """
    _prepare_collection(store, principal, collection, groups, embedder)
    report = IngestReport(collection=collection, embedded=embedder is not None, note=embed_note)
    for item in _expand(paths):
        if isinstance(item, tuple):
            report.files.append(FileResult(path=str(item[0]), status="error",
                                           error=f"{item[0]}: {item[1]}"))
            continue
        try:
            report.files.append(_ingest_one(store, principal, item.resolve(), collection,
                                            embedder, max_bytes, redactor))
        except DocumentFileError as exc:
            report.files.append(FileResult(path=str(item), status="error", error=str(exc)))
            log.warning("kb_ingest_failed", path=str(item), error=str(exc))
    if embedder is not None:
        backfill_embeddings(store, collection, embedder)
    return report


def _redacted(parsed: ParsedDocument, label: str, redactor: Redactor) -> ParsedDocument:
    """The document with every secret in its title and text replaced by a marker."""
    chunks = tuple(chunk.model_copy(update={
        "text": redactor.scrub_text(chunk.text, label, prose=True)}) for chunk in parsed.chunks)
    return parsed.model_copy(update={
        "title": redactor.scrub_text(parsed.title, label, prose=True), "chunks": chunks})


def _ingest_one(store: KnowledgeStore, principal: Principal, path: Path, collection: str,
                embedder: Embedder | None, max_bytes: int, redactor: Redactor) -> FileResult:
    data = read_bytes(path, max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    with store.db.connection() as conn:
        stored = store.document_by_path(conn, collection, str(path))
    if stored is not None and stored["sha256"] == digest:
        return FileResult(path=str(path), status="unchanged", document=stored["doc_key"],
                          version=int(stored["version"]))
    parsed = _redacted(parse_bytes(path, data), str(path), redactor)
    vectors = _embed(embedder, parsed.chunks, parsed.title)
    doc_key = stored["doc_key"] if stored else _doc_key(path)
    metadata = {**parsed.metadata, "kind": parsed.kind, "bytes": len(data)}
    with store.writing(collection) as conn:
        current = store.document_by_path(conn, collection, str(path))
        if current is not None and current["sha256"] == digest:
            return FileResult(path=str(path), status="unchanged", document=current["doc_key"],
                              version=int(current["version"]))
        if current is None:
            doc_id, version = store.insert_document(
                conn, collection=collection, doc_key=doc_key, source_path=str(path),
                title=parsed.title, sha256=digest, metadata=metadata, ingested_by=principal.user)
            status: Literal["added", "updated"] = "added"
        else:
            doc_id, version = store.update_document(
                conn, doc_id=int(current["id"]), source_path=str(path), title=parsed.title,
                sha256=digest, metadata=metadata, ingested_by=principal.user)
            status = "updated"
        store.insert_chunks(conn, _chunk_rows(doc_id, collection, doc_key, parsed.chunks,
                                              vectors))
    log.info("kb_document_ingested", collection=collection, document=doc_key, status=status,
             version=version, chunks=len(parsed.chunks))
    return FileResult(path=str(path), status=status, document=doc_key, version=version,
                      chunks=len(parsed.chunks))


def backfill_embeddings(store: KnowledgeStore, collection: str, embedder: Embedder,
                        *, batch: int = 256) -> int:
    """Embed chunks stored without a vector (ingested while embeddings were unavailable)."""
    done = 0
    while True:
        with store.db.connection() as conn:
            rows = store.unembedded(conn, collection, batch)
        if not rows:
            return done
        vectors = embedder.embed([embedding_text(r["section"], r["body"], r["title"])
                                  for r in rows])
        with store.writing(collection) as conn:
            store.set_embeddings(conn, [(int(r["id"]), v)
                                        for r, v in zip(rows, vectors, strict=True)])
        done += len(rows)


def ensure_builtin(store: KnowledgeStore, embedder: Embedder | None) -> BuiltinStatus:
    """Ingest the built-in corpus when it is missing or changed (by digest); backfill vectors.

    Raises:
        ConfigError: the corpus is malformed.
        StoreError: the database failed.
    """
    digest = corpus_digest()
    docs = load_corpus()
    passages = sum(len(d.passages) for d in docs)
    note = ""
    if embedder is not None and (embedder.model, embedder.dimension) != (MINILM, DIMENSION):
        note = (f"the built-in corpus is embedded with {MINILM}; {embedder.model} vectors are "
                "not stored")
        embedder = None
    with store.db.connection() as conn:
        current = store.owner_collection(conn, BUILTIN)
    if current is not None and current.corpus_digest == digest:
        filled = backfill_embeddings(store, BUILTIN, embedder) if embedder else 0
        return BuiltinStatus(digest=digest, changed=filled > 0, documents=len(docs),
                             passages=passages, embedded=embedder is not None, note=note)
    with store.db.connection() as conn:
        stored = {key: store.document_by_key(conn, BUILTIN, key)
                  for key in store.document_keys(conn, BUILTIN)} if current else {}
    pending = []
    for doc in docs:
        old = stored.get(doc.id)
        if old is not None and old["sha256"] == doc.sha256:
            continue
        chunks = tuple(ChunkSpec(section=p.title, text=p.text, anchor=p.id,
                                 frameworks=p.frameworks, phases=p.phases)
                       for p in doc.passages)
        vectors = _embed(embedder, chunks, doc.title)
        pending.append((doc, chunks, vectors))
    with store.writing(BUILTIN) as conn:
        store.create_collection(conn, name=BUILTIN, embedding_model=MINILM, dimension=DIMENSION,
                                read_groups=[], public=True, created_by="ktmb")
        wanted = {d.id for d in docs}
        for key in store.document_keys(conn, BUILTIN):
            if key not in wanted:
                row = store.document_by_key(conn, BUILTIN, key)
                if row is not None:
                    store.delete_document(conn, int(row["id"]))
        for doc, chunks, vectors in pending:
            row = store.document_by_key(conn, BUILTIN, doc.id)
            meta = {"source": doc.source, "source_version": doc.source_version,
                    "licence": doc.licence, "kind": "corpus"}
            if row is not None and row["sha256"] == doc.sha256:
                continue
            if row is None:
                doc_id, _ = store.insert_document(
                    conn, collection=BUILTIN, doc_key=doc.id, source_path=doc.path,
                    title=doc.title, sha256=doc.sha256, metadata=meta, ingested_by="ktmb")
            else:
                doc_id, _ = store.update_document(
                    conn, doc_id=int(row["id"]), source_path=doc.path, title=doc.title,
                    sha256=doc.sha256, metadata=meta, ingested_by="ktmb")
            store.insert_chunks(conn, _chunk_rows(doc_id, BUILTIN, doc.id, chunks, vectors))
        store.set_digest(conn, BUILTIN, digest)
    if embedder is not None:
        backfill_embeddings(store, BUILTIN, embedder)
    log.info("kb_builtin_ingested", documents=len(docs), changed=len(pending), passages=passages)
    return BuiltinStatus(digest=digest, changed=True, documents=len(docs), passages=passages,
                         embedded=embedder is not None, note=note)
