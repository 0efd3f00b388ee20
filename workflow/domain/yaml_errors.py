"""One-line errors for a YAML document that fails its pydantic model: file, line, key, problem.

Used for the files ktmb reads besides manifests (the application profile, the suppressions
file): pydantic's first error becomes ``FILE:LINE: key.path: problem``, at the line of the key
(or of its nearest enclosing key).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from workflow.domain.errors import InventoryError

__all__ = ["line_of", "validation_error"]


def _pointer(loc: Iterable[Any]) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in loc)


def line_of(lines: Mapping[str, int], loc: tuple[Any, ...], default: int | None) -> int | None:
    """The line of the value at ``loc``, or of its nearest ancestor that has one."""
    for end in range(len(loc), 0, -1):
        found = lines.get(_pointer(loc[:end]))
        if found is not None:
            return found
    return default


def _problem(err: Mapping[str, Any], known: Mapping[str, str]) -> str:
    kind = str(err.get("type", ""))
    loc = tuple(err.get("loc", ()))
    value = err.get("input")
    if kind == "extra_forbidden":
        parent = ".".join(str(p) for p in loc[:-1] if not isinstance(p, int))
        return f"unknown key (known: {known.get(parent, 'see the schema')})"
    if kind in {"enum", "literal_error"}:
        expected = str((err.get("ctx") or {}).get("expected", "")).replace("'", "")
        return f"must be one of {expected.replace(' or ', ', ')}, got {value!r}"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return "must be a mapping of keys"
    if kind in {"tuple_type", "list_type"}:
        return "must be a list"
    if kind == "string_type":
        return f"must be text, got {value!r}"
    if kind == "missing":
        return "is required"
    if kind.startswith("date"):
        return f"must be a date written YYYY-MM-DD, got {value!r}"
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    message = message.replace("Input should be", "must be").replace("String should", "must")
    return message[:1].lower() + message[1:]


def validation_error(label: str, exc: ValidationError, lines: Mapping[str, int],
                     first: int | None, known: Mapping[str, str]) -> InventoryError:
    """The first problem of ``exc`` as one line at its key's line.

    Args:
        label: the file's name in messages.
        exc: pydantic's error for the document.
        lines: the document's line of each JSON pointer.
        first: the document's first line (for problems without a line of their own).
        known: the keys a mapping may hold, by its dotted path ('' for the top), shown when an
            unknown key is met.
    """
    err = exc.errors()[0]
    loc = tuple(err.get("loc", ()))
    key = ".".join(str(p) for p in loc) or "document"
    return InventoryError(label, f"{key}: {_problem(err, known)}",
                          line=line_of(lines, loc, first))
