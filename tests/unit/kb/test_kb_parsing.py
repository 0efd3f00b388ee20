"""File parsing: Markdown, text, HTML, PDF, threat-model JSON, and one-line errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kb.documents import DocumentFileError, ParsedDocument, parse_bytes, read_bytes
from workflow.domain.threat_model import (
    Application,
    Finding,
    Generator,
    Phase,
    PhaseRecord,
    Severity,
    ThreatModel,
)


def parse_file(path: Path, *, max_bytes: int = 20 * 1024 * 1024) -> ParsedDocument:
    """Read and parse one file as an ingest does."""
    return parse_bytes(path, read_bytes(path, max_bytes))


def _pdf_bytes(lines: list[str]) -> bytes:
    """A minimal one-page PDF with one text line per entry."""
    ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
    for line in lines:
        ops.append(f"({line}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def test_markdown_title_and_sections(tmp_path: Path) -> None:
    """Markdown keeps its H1 as title and headings as sections."""
    path = tmp_path / "guide.md"
    path.write_text("# Hardening guide\n\n## Secrets\nMount secrets as files.\n", "utf-8")
    doc = parse_file(path)
    assert "Hardening guide" == doc.title
    assert [("Hardening guide > Secrets", "Mount secrets as files.")] == [
        (c.section, c.text) for c in doc.chunks]


def test_plain_text_headings(tmp_path: Path) -> None:
    """Underlined and numbered lines in plain text head their sections."""
    path = tmp_path / "notes.txt"
    path.write_text("Network review\n==============\nNo egress policy.\n\n"
                    "2.1 Identity\n\nTokens are mounted everywhere.\n", "utf-8")
    doc = parse_file(path)
    assert [("Network review", "No egress policy."),
            ("2.1 Identity", "Tokens are mounted everywhere.")] == [
        (c.section, c.text) for c in doc.chunks]


def test_html_headings_and_paragraphs(tmp_path: Path) -> None:
    """HTML headings become sections; scripts and navigation are dropped."""
    path = tmp_path / "page.html"
    path.write_text("<html><head><title>Runbook</title><script>var x=1;</script></head><body>"
                    "<nav>menu</nav><h1>Runbook</h1><p>Intro text.</p><h2>Exec access</h2>"
                    "<ul><li><p>Only on-call may exec.</p></li></ul></body></html>", "utf-8")
    doc = parse_file(path)
    assert "Runbook" == doc.title
    assert [("Runbook", "Intro text."), ("Runbook > Exec access", "- Only on-call may exec.")] == [
        (c.section, c.text) for c in doc.chunks]


def test_pdf_text_by_page(tmp_path: Path) -> None:
    """PDF text is extracted page by page."""
    path = tmp_path / "policy.pdf"
    path.write_bytes(_pdf_bytes(["Cluster policy", "All namespaces enforce restricted."]))
    doc = parse_file(path)
    assert "pdf" == doc.kind
    assert doc.chunks[0].section.startswith("page 1")
    assert "enforce restricted" in " ".join(c.text for c in doc.chunks)


def test_corrupt_pdf_is_a_one_line_error(tmp_path: Path) -> None:
    """A damaged PDF raises a one-line DocumentFileError naming the file."""
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    with pytest.raises(DocumentFileError) as info:
        parse_file(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("name", "data", "problem"), [
    ("latin.txt", "caf\xe9".encode("latin-1"), "not UTF-8"),
    ("image.png", b"\x89PNG", "unsupported file type"),
    ("other.json", b'{"a": 1}', "must be ktmb threat models"),
    ("bad.json", b"{", "not valid JSON"),
    ("empty.md", b"   \n", "no text"),
])
def test_bad_files_give_one_line_errors(tmp_path: Path, name: str, data: bytes,
                                        problem: str) -> None:
    """Unreadable inputs raise DocumentFileError with a one-line reason."""
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DocumentFileError) as info:
        parse_file(path)
    assert problem in str(info.value)
    assert "\n" not in str(info.value)


def test_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    """Files larger than the limit are not read."""
    path = tmp_path / "big.txt"
    path.write_text("x" * 100, "utf-8")
    with pytest.raises(DocumentFileError, match="larger than the limit"):
        parse_file(path, max_bytes=10)


def test_threat_model_json_gives_one_chunk_per_finding(tmp_path: Path) -> None:
    """A past threat model becomes a summary chunk plus one chunk per finding."""
    finding = Finding(id="controls.privileged@Deployment/shop/api", rule="controls.privileged",
                      title="Privileged container", description="api runs privileged.",
                      phase=Phase.CONTROLS, references=("CIS-1.10:5.2.2", "PSS:baseline"),
                      resources=("Deployment/shop/api",), severity=Severity.HIGH,
                      recommendation="Remove privileged: true.")
    model = ThreatModel(run_id="r1", created_at=datetime(2026, 1, 2, tzinfo=UTC),
                        application=Application(name="shop"), generator=Generator(version="0.1"),
                        phases={Phase.CONTROLS: PhaseRecord()}, findings=(finding,))
    path = tmp_path / "shop.json"
    path.write_text(json.dumps(model.model_dump(mode="json")), "utf-8")
    doc = parse_file(path)
    assert "threat-model" == doc.kind
    assert ["summary", "controls.privileged@Deployment/shop/api"] == [c.anchor for c in doc.chunks]
    chunk = doc.chunks[1]
    assert ("cis", "pss") == chunk.frameworks
    assert ("controls",) == chunk.phases
    assert "Remove privileged: true." in chunk.text
