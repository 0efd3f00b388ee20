"""One input whose contents are already read: what the loader parses, under the name it shows.

Plain files, standard input and uploads are read as they are; Helm charts and kustomize
directories are rendered first (:mod:`workflow.domain.renderers`), and each rendered input then
carries a map from the lines of the rendered text back to its source file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["LineMap", "NamedInput"]

#: ``(document index, {JSON pointer: line in the rendered text})`` -> the same pointers' lines
#: in the source file (pointers it cannot place are left out: they take their parent's line).
LineMap = Callable[[int, dict[str, int]], dict[str, int]]


@dataclass(frozen=True)
class NamedInput:
    """The contents of one input, already read, and the name it has in the output.

    ``explicit`` is False for a file found in a directory: one that holds no Kubernetes objects
    is skipped with a warning instead of refused. ``role`` ``profile`` or ``suppressions``
    names an application's side file (:mod:`workflow.domain.side_files`). ``line_map`` is set
    for rendered text: the
    label names the source file (a chart's template, a kustomization's resource), and the map
    turns lines of ``data`` into lines of that file.
    """

    label: str
    data: bytes
    explicit: bool = True
    role: Literal["manifest", "stdin", "profile", "suppressions"] = "manifest"
    line_map: LineMap | None = None
