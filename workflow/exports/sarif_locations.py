"""Where SARIF results are placed: a file and line for every result, no local path.

GitHub code scanning shows only results with a physical location and reads its URI relative
to the repository. :class:`Places` turns the manifest paths a model records into relative
URIs (absolute ones relative to the deepest directory that holds them all, which is not
written), places the manifests read from standard input in the pseudo-file
:data:`STDIN_URI`, and anchors a resource no evidence locates at line 1 of the first input
manifest (or of a pseudo-file when there is none). The pseudo-files used are stated in the
run's ``artifacts``.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from workflow.domain.threat_model import Evidence, ThreatModel
from workflow.exports._common import name_of

__all__ = ["NO_FILE_URI", "SRCROOT", "STDIN_URI", "Place", "Places", "evidence_text",
           "location"]

SRCROOT = "%SRCROOT%"

#: The pseudo-file of the manifests read from standard input (a file is what GitHub shows).
STDIN_URI = "ktmb-stdin.yaml"
#: The pseudo-file of results no input file can hold (a model that records no input).
NO_FILE_URI = "ktmb-application.yaml"
_PSEUDO_FILES = {
    STDIN_URI: "Standard input: no file of this name exists; ktmb names the manifests it read "
               "from standard input so.",
    NO_FILE_URI: "The application as a whole: no file of this name exists; the model records "
                 "no input file to place these results in.",
}
_STDIN_LABEL = "<stdin>"
_DRIVE = re.compile(r"^[A-Za-z]:/")


def _posix(path: str) -> str:
    return PureWindowsPath(path).as_posix() if "\\" in path else path


def _is_absolute(posix: str) -> bool:
    return posixpath.isabs(posix) or bool(_DRIVE.match(posix))


def evidence_text(ev: Evidence) -> str:
    """One piece of evidence as ``pointer = value``."""
    value = "(no value)" if ev.value is None else ev.value
    return f"{ev.path} = {value}"


@dataclass(frozen=True)
class Place:
    """Where one result goes: a URI and line, a note when anchored, the other evidence."""

    uri: str
    line: int
    note: str | None
    related: tuple[Evidence, ...]


class Places:
    """The file and line of each result of one model."""

    def __init__(self, model: ThreatModel) -> None:
        inputs = model.application.inputs
        self._stdin = frozenset({i.path for i in inputs if i.role == "stdin"} | {_STDIN_LABEL})
        self._files: dict[str, str] = {}  # resource -> the first file its evidence names
        paths: list[str] = []
        for finding in model.findings:
            for ev in finding.evidence:
                if ev.file:
                    self._files.setdefault(ev.resource, ev.file)
                    paths.append(ev.file)
        manifest = next((i.path for i in inputs if i.role == "manifest"), None)
        stdin = next((i.path for i in inputs if i.role == "stdin"), None)
        self._anchor = manifest or stdin
        absolute = {p for p in (_posix(p) for p in [*paths, *(i.path for i in inputs)])
                    if _is_absolute(p)}
        self._root = (posixpath.commonpath([posixpath.dirname(p) for p in absolute])
                      if absolute else None)
        self._used: set[str] = set()

    def path(self, label: str) -> str:
        """A recorded file path as a path relative to the repository (never absolute)."""
        if label in self._stdin:
            return label
        posix = _posix(label)
        if _is_absolute(posix) and self._root is not None:
            posix = posixpath.relpath(posix, self._root)
        return str(PurePosixPath(posixpath.normpath(posix).lstrip("/")))

    def uri(self, label: str | None) -> str:
        """The relative URI of a recorded file path (a pseudo-file for standard input)."""
        if label is None:
            self._used.add(NO_FILE_URI)
            return NO_FILE_URI
        if label in self._stdin:
            self._used.add(STDIN_URI)
            return STDIN_URI
        return quote(self.path(label), safe="/-._~")

    def place(self, resource: str, evidence: list[Evidence]) -> Place:
        """Where the result about ``resource`` with this evidence goes."""
        located = [ev for ev in evidence if ev.file]
        primary = next((ev for ev in located if ev.line is not None),
                       located[0] if located else None)
        if primary is not None:
            related = tuple(ev for ev in located if ev is not primary)
            return Place(self.uri(primary.file), primary.line or 1, None, related)
        known = self._files.get(resource)
        if known is not None:
            return Place(self.uri(known), 1, None, ())
        where = ("the first input manifest" if self._anchor is not None
                 else "a pseudo-file for the whole application")
        return Place(self.uri(self._anchor), 1,
                     f"No manifest line locates {resource}; the result is anchored at the start "
                     f"of {where}.", ())

    def artifacts(self) -> list[dict[str, Any]]:
        """The pseudo-files the results use, each stated as no file."""
        return [{"location": {"uri": uri, "uriBaseId": SRCROOT},
                 "description": {"text": _PSEUDO_FILES[uri]}, "roles": ["analysisTarget"]}
                for uri in sorted(self._used)]


def location(resource: str, uri: str, line: int, message: str | None = None) -> dict[str, Any]:
    """A SARIF location: the file and line, and the resource as a logical location."""
    out: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": SRCROOT},
                             "region": {"startLine": line}},
        "logicalLocations": [{"name": name_of(resource), "fullyQualifiedName": resource,
                              "kind": "resource"}],
    }
    if message:
        out["message"] = {"text": message}
    return out
