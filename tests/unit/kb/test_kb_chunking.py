"""Chunking keeps headings with their text."""

from __future__ import annotations

from kb.chunking import chunk_sections, markdown_sections, split_text


def test_markdown_sections_follow_heading_path() -> None:
    """Nested headings become a heading path and siblings replace each other."""
    text = "# Guide\nintro\n## Pods\npods text\n### Privileged\npriv text\n## Network\nnet text\n"
    sections = markdown_sections(text)
    assert ["Guide", "Guide > Pods", "Guide > Pods > Privileged", "Guide > Network"] == [
        s.name for s in sections]
    assert ["intro", "pods text", "priv text", "net text"] == [s.text for s in sections]


def test_heading_inside_code_fence_is_text() -> None:
    """A '#' line inside a fenced code block is not a heading."""
    text = "# Title\n```bash\n# not a heading\necho hi\n```\nafter\n"
    sections = markdown_sections(text)
    assert 1 == len(sections)
    assert "# not a heading" in sections[0].text


def test_split_text_respects_limit_and_keeps_all_words() -> None:
    """Long text is cut under the limit without losing words."""
    paragraphs = [" ".join(f"w{p}x{i}." for i in range(60)) for p in range(8)]
    text = "\n\n".join(paragraphs)
    pieces = split_text(text, max_chars=300)
    assert all(len(piece) <= 300 for piece in pieces)
    assert text.split() == " ".join(pieces).split()


def test_split_text_cuts_a_word_longer_than_the_limit() -> None:
    """A single token longer than the limit is cut hard."""
    pieces = split_text("a" * 750, max_chars=300)
    assert [300, 300, 150] == [len(p) for p in pieces]


def test_every_chunk_keeps_its_section() -> None:
    """Each piece of a long section carries the section name."""
    body = "\n\n".join(f"Sentence number {i} is here. " * 20 for i in range(10))
    chunks = chunk_sections(markdown_sections(f"# Top\n## Long part\n{body}\n"), max_chars=400)
    assert len(chunks) > 3
    assert {"Top > Long part"} == {c.section for c in chunks}
