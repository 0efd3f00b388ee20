"""Templates and static files of the web UI (served by :mod:`workflow.api.web`)."""

from __future__ import annotations

__all__: list[str] = []
