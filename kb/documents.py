"""Document files turned into sections and chunks, ready for the knowledge base.

Supported: Markdown (``.md``, ``.markdown``), plain text (``.txt``, ``.text``, ``.rst``), PDF
(pypdf), HTML (beautifulsoup4) and earlier ktmb threat models (``.json``, one chunk per finding
plus a summary). :func:`read_bytes` reads a file within a size limit and :func:`parse_bytes`
parses it by its suffix into a :class:`ParsedDocument`; a file that cannot be read or parsed
raises :class:`DocumentFileError`. Storing the chunks is :mod:`kb.ingest`.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from kb.chunking import MAX_CHARS, Section, chunk_sections, markdown_sections
from workflow.domain.errors import UserError
from workflow.domain.threat_model import Finding, read_model

__all__ = [
    "SUPPORTED_SUFFIXES",
    "ChunkSpec",
    "DocumentFileError",
    "ParsedDocument",
    "parse_bytes",
    "read_bytes",
]

SUPPORTED_SUFFIXES = {".md", ".markdown", ".txt", ".text", ".rst", ".pdf", ".html", ".htm",
                      ".json"}


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
        model = read_model(data)
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
        chain = [path_.origin, *(f"{hop.to} ({hop.attack})" for hop in path_.hops)]
        summary.append(f"Attack path ({path_.severity.value}): " + " -> ".join(chain) + ".")
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
