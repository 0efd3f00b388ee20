"""Run ids: unique, readable and sortable by start time."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

__all__ = ["new_run_id"]


def new_run_id(application: str) -> str:
    """A new, unique, readable run id."""
    slug = "".join(ch if ch.isalnum() else "-" for ch in application.lower()).strip("-")[:40]
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return f"{slug or 'app'}-{stamp}-{secrets.token_hex(3)}"
