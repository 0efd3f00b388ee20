"""Lines of rendered text placed back in the file they came from.

A Helm template is not YAML, so its lines are matched with the rendered text's line by line
(:func:`template_line_map`): a rendered line written as is in the template (indentation aside)
gets that template line; one a directive produced (``{{ toYaml .Values.x | nindent 8 }}``) gets
the line of the directive, or of the template line just before it. A kustomize resource is
YAML: each rendered object takes the lines of the same pointers in its source document
(:func:`document_line_map`); a pointer the source does not have (added by a patch) takes its
parent's line.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from workflow.domain.named_input import LineMap

__all__ = ["align_lines", "document_line_map", "template_line_map"]


def align_lines(rendered: str, template: str) -> list[int]:
    """For each line of ``rendered`` (index ``i`` for line ``i + 1``), its line in ``template``."""
    out_lines = [line.strip() for line in rendered.splitlines()]
    src_lines = [line.strip() for line in template.splitlines()]
    placed = [1] * len(out_lines)
    matcher = difflib.SequenceMatcher(None, out_lines, src_lines, autojunk=False)
    for tag, i1, i2, j1, _j2 in matcher.get_opcodes():
        for i in range(i1, i2):
            if tag == "equal":
                placed[i] = j1 + (i - i1) + 1
            elif tag == "replace":  # produced by the directive that opens the block
                placed[i] = j1 + 1
            else:  # "delete": text no template line holds; the line just before produced it
                placed[i] = max(j1, 1)
    return placed


def template_line_map(rendered: str, template: str | None) -> LineMap:
    """The line map of a rendered template (every pointer on line 1 without the template)."""
    placed = align_lines(rendered, template) if template is not None else []

    def remap(_index: int, lines: dict[str, int]) -> dict[str, int]:
        if not placed:
            return {"/": 1}
        last = len(placed)
        return {ptr: placed[min(line, last) - 1] for ptr, line in lines.items()}

    return remap


def document_line_map(sources: Sequence[Mapping[str, int] | None]) -> LineMap:
    """The line map of rendered objects whose source documents' lines are ``sources``.

    ``sources[i]`` is the source lines of the rendered text's document ``i`` (``None`` when it
    has none: it is placed on line 1 of its label).
    """

    def remap(index: int, lines: dict[str, int]) -> dict[str, int]:
        source = sources[index] if index < len(sources) else None
        if source is None:
            return {"/": 1}
        return {ptr: source[ptr] for ptr in lines if ptr in source}

    return remap
