"""Named SQL queries kept in ``.sql`` files (``-- name: x`` blocks), loaded once."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

__all__ = ["load_queries"]

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
