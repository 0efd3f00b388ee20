"""Split documents into passages that keep their heading with their text.

A *section* is the text under one heading, named by the heading path (``Guide > Pods >
Privileged``). Sections longer than ``max_chars`` are cut on paragraph boundaries (then on
sentence boundaries, then hard); every piece keeps the section name, so a chunk never loses the
heading that gives it meaning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["MAX_CHARS", "Section", "TextChunk", "chunk_sections", "markdown_sections",
           "split_text"]

MAX_CHARS = 1200
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'`*])")


@dataclass(frozen=True)
class Section:
    """Text under one heading path."""

    path: tuple[str, ...]
    text: str

    @property
    def name(self) -> str:
        """The heading path joined with ``>``."""
        return " > ".join(self.path)


@dataclass(frozen=True)
class TextChunk:
    """A passage: its section name and text."""

    section: str
    text: str


def markdown_sections(text: str) -> list[Section]:
    """Sections of a Markdown text (headings in fenced code blocks are not headings)."""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            sections.append(Section(tuple(title for _, title in path), body))
        lines.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            lines.append(line)
            continue
        match = None if in_fence else _HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, match.group(2).strip()))
        else:
            lines.append(line)
    flush()
    return sections


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def split_text(text: str, max_chars: int = MAX_CHARS) -> list[str]:
    """Pieces of at most ``max_chars``, cut on paragraphs, then sentences, then hard."""
    pieces: list[str] = []
    current = ""
    for unit in _units(text, max_chars):
        candidate = f"{current}\n\n{unit}" if current else unit
        if len(candidate) <= max_chars:
            current = candidate
        else:
            if current:
                pieces.append(current)
            current = unit
    if current:
        pieces.append(current)
    return pieces


def _units(text: str, max_chars: int) -> Iterable[str]:
    for para in _paragraphs(text):
        if len(para) <= max_chars:
            yield para
            continue
        sentence_buffer = ""
        for sentence in _SENTENCE.split(para):
            while len(sentence) > max_chars:
                cut = sentence.rfind(" ", 0, max_chars)
                cut = cut if cut > max_chars // 2 else max_chars
                if sentence_buffer:
                    yield sentence_buffer
                    sentence_buffer = ""
                yield sentence[:cut].strip()
                sentence = sentence[cut:].strip()
            candidate = f"{sentence_buffer} {sentence}".strip()
            if len(candidate) <= max_chars:
                sentence_buffer = candidate
            else:
                yield sentence_buffer
                sentence_buffer = sentence
        if sentence_buffer:
            yield sentence_buffer


def chunk_sections(sections: Iterable[Section], max_chars: int = MAX_CHARS) -> list[TextChunk]:
    """Chunks of at most ``max_chars`` body characters, each with its section name."""
    chunks: list[TextChunk] = []
    for section in sections:
        for piece in split_text(section.text, max_chars):
            chunks.append(TextChunk(section=section.name, text=piece))
    return chunks
