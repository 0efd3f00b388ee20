"""Settings of the HTTP service (environment, prefix ``KTMB_``).

=============================  ==================================================================
``KTMB_API_TOKENS_FILE``       API tokens, one ``TOKEN USER [GROUP,GROUP...]`` per line (``#``
                               starts a comment). Clients send ``Authorization: Bearer TOKEN``;
                               the web UI's login form takes the same token.
``KTMB_TRUSTED_HEADER_USER``   Name of a header a reverse proxy sets to the authenticated user
                               (e.g. ``X-Forwarded-User``). Honoured only when set, and only on
                               requests from ``KTMB_TRUSTED_PROXIES``.
``KTMB_TRUSTED_HEADER_GROUPS`` Name of the header with the user's groups, comma-separated
                               (e.g. ``X-Forwarded-Groups``).
``KTMB_TRUSTED_PROXIES``       Client addresses allowed to set the trusted headers
                               (comma-separated; default ``127.0.0.1,::1``).
``KTMB_SERVER_PATHS``          Directories (colon-separated) from which a run may read server-side
                               manifests; any other path is refused with 403. Unset: none.
``KTMB_API_EXECUTOR``          Who executes runs after a start or a decision: ``threads`` (default:
                               background threads of this process) or ``queue`` (the PostgreSQL
                               job queue of :mod:`workflow.queue`; run ``ktmb worker`` processes).
``KTMB_API_WORKERS``           Background threads that execute runs (default 4).
``KTMB_COOKIE_SECURE``         ``1`` marks the session cookie ``Secure`` (set it behind HTTPS;
                               it is set automatically when the request arrived over HTTPS).
``KTMB_SESSION_HOURS``         Lifetime of a web UI session (default 12 hours; fractions allowed).
``KTMB_MAX_REQUEST_BYTES``     Largest request body (default 64 MiB): the whole of an upload;
                               JSON and form bodies are capped at 1 MiB below it. Larger bodies
                               answer 413 before they are read (see :mod:`workflow.api.limits`).
=============================  ==================================================================

At least one of ``KTMB_API_TOKENS_FILE`` and ``KTMB_TRUSTED_HEADER_USER`` must be set: the service
never runs without authentication.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from workflow.domain.errors import ConfigError

__all__ = ["ApiSettings", "load_api_settings"]


class ApiSettings(BaseModel):
    """Authentication, server-side paths and execution of the HTTP service."""

    model_config = ConfigDict(frozen=True)

    tokens_file: Path | None = None
    trusted_header_user: str | None = None
    trusted_header_groups: str | None = None
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    server_paths: tuple[Path, ...] = ()
    executor: Literal["threads", "queue"] = "threads"
    workers: int = Field(default=4, ge=1, le=64)
    max_upload_files: int = Field(default=500, ge=1)
    cookie_secure: bool = False
    session_hours: float = Field(default=12.0, gt=0, le=24 * 366)
    max_request_bytes: int = Field(default=64 * 1024 * 1024, ge=4096)

    def require_authentication(self) -> None:
        """Refuse a configuration without any way to authenticate.

        Raises:
            ConfigError: neither API tokens nor a trusted header are configured.
        """
        if self.tokens_file is None and not self.trusted_header_user:
            raise ConfigError(
                "the HTTP service needs authentication: set KTMB_API_TOKENS_FILE (API tokens) "
                "or KTMB_TRUSTED_HEADER_USER (a header set by a reverse proxy)")


def _split(value: str | None, sep: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(sep) if part.strip())


def _number(name: str, text: str, kind: type[int] | type[float], low: float, high: float,
            ) -> int | float | None:
    """A number setting (None when unset).

    Raises:
        ConfigError: not a number of the kind, or out of range.
    """
    text = text.strip().replace("_", "")
    if not text:
        return None
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{name} must be a {'whole ' if kind is int else ''}number, "
                          f"got {text[:40]!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}")
    return value


def load_api_settings() -> ApiSettings:
    """Read the service settings from the environment.

    Raises:
        ConfigError: a value is not valid.
    """
    env = os.environ
    workers_text = env.get("KTMB_API_WORKERS", "").strip()
    try:
        workers = int(workers_text) if workers_text else 4
    except ValueError:
        raise ConfigError(f"KTMB_API_WORKERS must be a whole number, got {workers_text!r}"
                          ) from None
    if not 1 <= workers <= 64:
        raise ConfigError("KTMB_API_WORKERS must be between 1 and 64")
    executor = (env.get("KTMB_API_EXECUTOR") or "threads").strip().lower()
    if executor not in {"threads", "queue"}:
        raise ConfigError(f"KTMB_API_EXECUTOR must be threads or queue, got {executor!r}")
    hours = _number("KTMB_SESSION_HOURS", env.get("KTMB_SESSION_HOURS", ""), float,
                    1 / 60, 24 * 366)
    max_request = _number("KTMB_MAX_REQUEST_BYTES", env.get("KTMB_MAX_REQUEST_BYTES", ""), int,
                          4096, 1 << 40)
    tokens = env.get("KTMB_API_TOKENS_FILE", "").strip()
    proxies = _split(env.get("KTMB_TRUSTED_PROXIES"), ",") or ("127.0.0.1", "::1")
    return ApiSettings(
        tokens_file=Path(tokens).expanduser() if tokens else None,
        trusted_header_user=env.get("KTMB_TRUSTED_HEADER_USER", "").strip() or None,
        trusted_header_groups=env.get("KTMB_TRUSTED_HEADER_GROUPS", "").strip() or None,
        trusted_proxies=proxies,
        server_paths=tuple(Path(p).expanduser() for p in _split(env.get("KTMB_SERVER_PATHS"),
                                                                   ":")),
        executor=executor,
        workers=workers,
        cookie_secure=env.get("KTMB_COOKIE_SECURE", "").strip().lower() in {"1", "true", "yes"},
        **{name: value for name, value in (("session_hours", hours),
                                           ("max_request_bytes", max_request))
           if value is not None},
    )
