"""The search modes of the knowledge base (a light module: the CLI's options import it)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SearchMode"]


class SearchMode(StrEnum):
    """Which halves of the search run."""

    HYBRID = "hybrid"
    VECTOR = "vector"
    TEXT = "text"
