"""Text as the prompts show it: clipped visibly, and data kept inside its section."""

from __future__ import annotations

import re

__all__ = [
    "as_data",
    "clip",
]

_DATA_TAGS = re.compile(r"<(/?)(inventory|rule_findings|passages|notes|reviewer_guidance)\b",
                        re.IGNORECASE)


def clip(text: str, limit: int) -> str:
    """Shorten a value visibly (never silently): the omitted length is stated."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return f"{flat[:limit]}…(+{len(flat) - limit} chars)"


def as_data(text: str) -> str:
    """Neutralise our own section tags inside data, so data cannot close its section."""
    return _DATA_TAGS.sub(lambda m: f"&lt;{m.group(1)}{m.group(2)}", text)
