"""Ingestion: read files, chunk them with their headings, embed, and upsert idempotently.

Supported: Markdown (``.md``, ``.markdown``), plain text (``.txt``, ``.text``, ``.rst``), PDF
(pypdf), HTML (beautifulsoup4) and earlier ktmb threat models (``.json``, one chunk per finding
plus a summary). A document is keyed by its resolved path within a collection: unchanged bytes
change nothing, changed bytes replace its chunks and bump its version. A file that cannot be read
yields one error line and the other files go on.

The built-in corpus is (re)ingested by :func:`ensure_builtin` whenever its digest differs from the
one recorded on the ``builtin`` collection.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict, ValidationError

from kb.chunking import MAX_CHARS, Section, chunk_sections, markdown_sections
from kb.corpus import corpus_digest, load_corpus
from kb.embeddings import DIMENSION, MINILM, Embedder, check_compatible
from kb.store import BUILTIN, KnowledgeStore, Principal, check_collection_name
from workflow.domain.errors import ConfigError, UserError
from workflow.domain.threat_model import Finding, ThreatModel

__all__ = [
    "SUPPORTED_SUFFIXES",
    "BuiltinStatus",
    "ChunkSpec",
    "DocumentFileError",
    "FileResult",
    "IngestReport",
    "ParsedDocument",
    "embedding_text",
    "ensure_builtin",
    "ingest_paths",
]

log = structlog.get_logger(__name__)

SUPPORTED_SUFFIXES = {".md", ".markdown", ".txt", ".text", ".rst", ".pdf", ".html", ".htm",
                      ".json"}
_EMBED_BATCH = 128


class DocumentFileError(UserError):
    """A file cannot be ingested."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        super().__init__(f"{path}: {problem}")


class ChunkSpec(BaseModel):
    """A chunk ready to store."""

    model_config = ConfigDict(frozen=True)

    section: str
    text: str
    anchor: str | None = None
    frameworks: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()


class ParsedDocument(BaseModel):
    """A file turned into chunks."""

    model_config = ConfigDict(frozen=True)

    title: str
    kind: str
    chunks: tuple[ChunkSpec, ...]
    metadata: dict[str, Any] = {}


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


# -- parsing ------------------------------------------------------------------------------

def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentFileError(str(path), f"not UTF-8 text (byte {exc.start})") from None


def _chunks(sections: Iterable[Section], max_chars: int) -> tuple[ChunkSpec, ...]:
    return tuple(ChunkSpec(section=c.section, text=c.text)
                 for c in chunk_sections(sections, max_chars))


def _markdown(path: Path, text: str, max_chars: int) -> ParsedDocument:
    title = path.stem
    front = re.match(r"\A---\n(.*?)\n---\n", text, re.DOTALL)
    if front:
        match = re.search(r"^title:\s*(.+)$", front.group(1), re.MULTILINE)
        if match:
            title = match.group(1).strip().strip("'\"")
        text = text[front.end():]
    h1 = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    if h1 and not front:
        title = h1.group(1).strip()
    return ParsedDocument(title=title, kind="markdown", chunks=_chunks(markdown_sections(text),
                                                                         max_chars))


_UNDERLINE = re.compile(r"^(=+|-+)\s*$")
_NUMBERED = re.compile(r"^(\d+(\.\d+)*\.?|[A-Z]\.)\s+\S.{0,80}$")


def _text_sections(text: str) -> list[Section]:
    """Sections of plain text: underlined lines, numbered or upper-case title lines head them."""
    lines = text.splitlines()
    sections: list[Section] = []
    heading: tuple[str, ...] = ()
    body: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        nxt = lines[i + 1].rstrip() if i + 1 < len(lines) else ""
        prev_blank = i == 0 or not lines[i - 1].strip()
        short = 0 < len(line.strip()) <= 80
        is_heading = short and (
            (_UNDERLINE.match(nxt) is not None and len(nxt) >= 3)
            or (prev_blank and not nxt.strip() and (
                _NUMBERED.match(line.strip()) is not None
                or (line.isupper() and any(ch.isalpha() for ch in line)))))
        if is_heading and not line.strip().endswith((".", ",", ";")):
            if "\n".join(body).strip():
                sections.append(Section(heading, "\n".join(body).strip()))
            heading, body = (line.strip(),), []
            i += 2 if _UNDERLINE.match(nxt) else 1
            continue
        body.append(line)
        i += 1
    if "\n".join(body).strip():
        sections.append(Section(heading, "\n".join(body).strip()))
    return sections


def _plain(path: Path, text: str, max_chars: int) -> ParsedDocument:
    return ParsedDocument(title=path.stem, kind="text",
                          chunks=_chunks(_text_sections(text), max_chars))


def _pdf(path: Path, data: bytes, max_chars: int) -> ParsedDocument:
    from pypdf import PdfReader  # the PDF parser loads only for PDF documents
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings would repeat our error

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise DocumentFileError(str(path), "the PDF is encrypted")
        title = (reader.metadata.title if reader.metadata and reader.metadata.title
                 else path.stem)
        sections = []
        for number, page in enumerate(reader.pages, start=1):
            page_text = page.extract_text() or ""
            page_text = re.sub(r"[ \t]+\n", "\n", page_text)
            for section in _text_sections(page_text):
                sections.append(Section((f"page {number}", *section.path), section.text))
    except DocumentFileError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, IndexError) as exc:
        raise DocumentFileError(str(path), f"not a readable PDF ({type(exc).__name__})") from None
    chunks = _chunks(sections, max_chars)
    if not chunks:
        raise DocumentFileError(str(path), "the PDF has no extractable text")
    return ParsedDocument(title=str(title), kind="pdf", chunks=chunks,
                          metadata={"pages": len(reader.pages)})


_BLOCKS = ("p", "li", "pre", "blockquote", "td", "th", "dt", "dd", "figcaption")
_HEADS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _html(path: Path, text: str, max_chars: int) -> ParsedDocument:
    from bs4 import BeautifulSoup  # the HTML parser loads only for HTML documents

    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "nav", "noscript", "template", "svg"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    lines: list[str] = []
    wanted = set(_BLOCKS) | set(_HEADS)
    for element in soup.find_all(list(wanted)):
        if any(parent.name in wanted for parent in element.parents):
            continue
        content = element.get_text(" ", strip=True)
        if not content:
            continue
        if element.name in _HEADS:
            lines.append(f"{'#' * int(element.name[1])} {content}")
            title = title or content
        elif element.name == "li":
            lines.append(f"- {content}")
        else:
            lines.append(content)
        lines.append("")
    if not lines:
        body = soup.get_text("\n", strip=True)
        lines = [body]
    chunks = _chunks(markdown_sections("\n".join(lines)), max_chars)
    if not chunks:
        raise DocumentFileError(str(path), "the HTML page has no text")
    return ParsedDocument(title=title or path.stem, kind="html", chunks=chunks)


def _framework_of(reference: str) -> str | None:
    ref = reference.lower()
    for prefix, key in (("cis", "cis"), ("owasp-k8s-2022", "owasp-k8s-2022"),
                        ("owasp-k8s-2025", "owasp-k8s-2025"), ("pss", "pss"),
                        ("nsa", "nsa-cisa"), ("mitre", "mitre-attack"),
                        ("ms-", "ms-threat-matrix")):
        if ref.startswith(prefix):
            return key
    return None


def _finding_chunk(finding: Finding) -> ChunkSpec:
    lines = [f"Finding {finding.id} (rule {finding.rule}, phase {finding.phase.value}, "
             f"severity {finding.severity.value}, score {finding.score}).",
             finding.description]
    if finding.resources:
        lines.append("Resources: " + ", ".join(finding.resources) + ".")
    if finding.stride:
        lines.append("STRIDE: " + ", ".join(s.value for s in finding.stride) + ".")
    attack = [*finding.attack.techniques, *finding.attack.ms_matrix]
    if attack:
        lines.append("ATT&CK / Threat Matrix: " + ", ".join(attack) + ".")
    if finding.references:
        lines.append("References: " + ", ".join(finding.references) + ".")
    if finding.evidence:
        lines.append("Evidence: " + "; ".join(
            f"{e.resource} {e.path}" + (f" = {e.value}" if e.value and not e.redacted else "")
            for e in finding.evidence[:5]) + ".")
    if finding.recommendation:
        lines.append("Recommendation: " + finding.recommendation)
    frameworks = tuple(dict.fromkeys(
        f for f in (_framework_of(r) for r in finding.references) if f))
    return ChunkSpec(section=finding.title, text="\n".join(x for x in lines if x),
                     anchor=finding.id, frameworks=frameworks, phases=(finding.phase.value,))


def _threat_model(path: Path, text: str) -> ParsedDocument:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentFileError(str(path), f"not valid JSON (line {exc.lineno})") from None
    if not isinstance(data, dict) or "findings" not in data or "schema_version" not in data:
        raise DocumentFileError(str(path), "JSON files must be ktmb threat models")
    try:
        model = ThreatModel.model_validate(data)
    except ValidationError as exc:
        raise DocumentFileError(
            str(path), f"not a valid ktmb threat model ({exc.error_count()} schema errors)"
        ) from None
    arch = model.architecture
    summary = [f"Threat model of {model.application.name}, run {model.run_id}, created "
               f"{model.created_at.date().isoformat()}: {model.summary.total} findings, overall "
               f"risk {model.summary.overall_risk.value}."]
    if arch.components:
        summary.append("Components: " + ", ".join(c.id for c in arch.components[:40]) + ".")
    if arch.entry_points:
        summary.append("Entry points: " + ", ".join(
            f"{e.id} ({e.exposure})" for e in arch.entry_points[:20]) + ".")
    for path_ in model.attack_paths[:10]:
        summary.append("Attack path: " + " -> ".join(path_.steps) + ".")
    chunks = [ChunkSpec(section=f"{model.application.name} summary", text="\n".join(summary),
                        anchor="summary")]
    chunks.extend(_finding_chunk(f) for f in model.findings)
    return ParsedDocument(title=f"Threat model: {model.application.name} ({model.run_id})",
                          kind="threat-model", chunks=tuple(chunks),
                          metadata={"run_id": model.run_id,
                                    "application": model.application.name})


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """The bytes of a file, within the size limit."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentFileError(str(path), f"larger than the limit of {max_bytes} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise DocumentFileError(str(path), f"cannot be read ({exc.strerror or exc})") from None


def parse_bytes(path: Path, data: bytes, *, max_chars: int = MAX_CHARS) -> ParsedDocument:
    """Parse file bytes by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentFileError(str(path), f"unsupported file type {suffix or '(none)'}; use "
                                + ", ".join(sorted(SUPPORTED_SUFFIXES)))
    if suffix == ".pdf":
        parsed = _pdf(path, data, max_chars)
    else:
        text = _decode(path, data)
        if suffix in (".md", ".markdown"):
            parsed = _markdown(path, text, max_chars)
        elif suffix in (".html", ".htm"):
            parsed = _html(path, text, max_chars)
        elif suffix == ".json":
            parsed = _threat_model(path, text)
        else:
            parsed = _plain(path, text, max_chars)
    if not parsed.chunks:
        raise DocumentFileError(str(path), "no text to ingest")
    return parsed


def embedding_text(section: str, text: str, title: str = "") -> str:
    """What is embedded for a chunk: document title and heading, then its text."""
    head = " - ".join(part for part in (title, section) if part)
    return f"{head}\n{text}" if head else text


# -- ingestion ----------------------------------------------------------------------------

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
                 collection: str, groups: Sequence[str] = (), embedder: Embedder | None,
                 max_bytes: int = 20 * 1024 * 1024, embed_note: str = "") -> IngestReport:
    """Ingest files and directories into a collection the principal may write.

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
                                            embedder, max_bytes))
        except DocumentFileError as exc:
            report.files.append(FileResult(path=str(item), status="error", error=str(exc)))
            log.warning("kb_ingest_failed", path=str(item), error=str(exc))
    if embedder is not None:
        backfill_embeddings(store, collection, embedder)
    return report


def _ingest_one(store: KnowledgeStore, principal: Principal, path: Path, collection: str,
                embedder: Embedder | None, max_bytes: int) -> FileResult:
    data = read_bytes(path, max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    with store.db.connection() as conn:
        stored = store.document_by_path(conn, collection, str(path))
    if stored is not None and stored["sha256"] == digest:
        return FileResult(path=str(path), status="unchanged", document=stored["doc_key"],
                          version=int(stored["version"]))
    parsed = parse_bytes(path, data)
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
