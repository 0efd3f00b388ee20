"""The HTTP service of ktmb: a JSON API (OpenAPI at ``/openapi.json``) and a web UI at ``/ui``.

Start it with ``ktmb serve``; configure authentication and server-side paths with the
environment variables listed in :mod:`workflow.api.config`. See :mod:`workflow.api.auth` for
how reviewers are authenticated and which runs they see.
"""

from __future__ import annotations

from workflow.api.app import create_app, open_runs
from workflow.api.config import ApiSettings, load_api_settings

__all__ = ["ApiSettings", "create_app", "load_api_settings", "open_runs"]
