"""Named SQL queries kept in ``.sql`` files (``-- name: x`` blocks), and what runs them."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # only the protocol's annotation: no driver is loaded here
    import psycopg

__all__ = ["ConnectionSource", "load_queries"]


class ConnectionSource(Protocol):
    """Anything that lends a psycopg connection: ``workflow.db.Database`` or a pool."""

    def connection(self) -> AbstractContextManager[psycopg.Connection[Any]]:
        """A connection (``dict_row`` rows) for the duration of the ``with`` block."""
        ...

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


@cache
def load_queries(path: Path) -> dict[str, str]:
    """The named queries of a ``.sql`` file."""
    text = path.read_text(encoding="utf-8")
    parts = _NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        lines = [ln for ln in body.strip().splitlines() if not ln.lstrip().startswith("--")]
        queries[name] = "\n".join(lines).strip().rstrip(";")
    return queries
