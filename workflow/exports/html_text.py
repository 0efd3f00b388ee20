"""Escaped HTML text pieces the HTML report's sections share."""

from __future__ import annotations

import hashlib
import html

__all__ = ["anchor", "code", "esc", "sev"]


def esc(value: object) -> str:
    """Text escaped for HTML (quotes too)."""
    return html.escape(str(value), quote=True)


def code(value: object) -> str:
    """Text in a code element."""
    return f"<code>{esc(value)}</code>"


def anchor(item_id: str) -> str:
    """The stable anchor of a finding or path id."""
    return "f-" + hashlib.sha256(item_id.encode()).hexdigest()[:16]


def sev(band: str) -> str:
    """A severity badge."""
    return f'<span class="sev sev-{esc(band)}">{esc(band.upper())}</span>'
