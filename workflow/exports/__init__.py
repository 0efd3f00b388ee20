r"""Exports of a threat model: JSON, SARIF 2.1.0, JUnit XML, Markdown, HTML, Mermaid, OTM, graph.

The attack graph exports as JSON (``graph-json``) and GraphML.

One module per format; each is a pure function of a
:class:`~workflow.domain.threat_model.ThreatModel` (no database, no file, no network), so a
finished or a partial run exports the same way from the CLI, the HTTP API or a test::

    from workflow.exports import export
    text = export(model, "sarif")

Names, notes and evidence come from manifests and reviewers and may carry terminal escape
sequences or bidi overrides: :func:`export` shows them as visible escapes in the text formats
and writes them as ``\u`` escapes in the JSON formats (:mod:`workflow.domain.printable`), so a
document can be printed on a terminal or opened in a viewer as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

from workflow.domain.errors import ConfigError
from workflow.domain.printable import json_printable, printable
from workflow.domain.threat_model import ThreatModel
from workflow.exports import graph_formats, html, junit, markdown, mermaid, otm, sarif

__all__ = ["FORMATS", "MEDIA_TYPES", "SUFFIXES", "Format", "export"]

Format = Literal["json", "sarif", "junit", "markdown", "html", "mermaid", "otm", "graph-json",
                 "graphml"]

#: Every export format, in the order a CLI or API lists them.
FORMATS: tuple[Format, ...] = get_args(Format)

#: The usual file suffix of each format.
SUFFIXES: dict[Format, str] = {
    "json": ".json",
    "sarif": ".sarif",
    "junit": ".junit.xml",
    "markdown": ".md",
    "html": ".html",
    "mermaid": ".mmd",
    "otm": ".otm.json",
    "graph-json": ".graph.json",
    "graphml": ".graphml",
}

#: The media type to serve each format with.
MEDIA_TYPES: dict[Format, str] = {
    "json": "application/json",
    "sarif": "application/sarif+json",
    "junit": "application/xml",
    "markdown": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "mermaid": "text/plain; charset=utf-8",
    "otm": "application/json",
    "graph-json": "application/json",
    "graphml": "application/graphml+xml",
}


def _json(model: ThreatModel) -> str:
    return model.model_dump_json(indent=2) + "\n"


#: The formats that are JSON documents (the others are text).
_JSON_FORMATS: frozenset[Format] = frozenset({"json", "sarif", "otm", "graph-json"})

_RENDERERS: dict[Format, Callable[[ThreatModel], str]] = {
    "json": _json,
    "sarif": sarif.render,
    "junit": junit.render,
    "markdown": markdown.render,
    "html": html.render,
    "mermaid": mermaid.render,
    "otm": otm.render,
    "graph-json": graph_formats.graph_json,
    "graphml": graph_formats.graphml,
}


def export(model: ThreatModel, fmt: Format) -> str:
    """Render a threat model in one of :data:`FORMATS`.

    Args:
        model: a finished or partial threat model (a partial one is marked as such).
        fmt: the format name.

    Returns:
        The document as text, ending with a newline, with no raw control or bidi character.

    Raises:
        ConfigError: ``fmt`` is not one of :data:`FORMATS`.
    """
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise ConfigError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    text = renderer(model)
    return json_printable(text) if fmt in _JSON_FORMATS else printable(text)
