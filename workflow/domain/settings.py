"""Settings from the environment (prefix ``KTMB_``), documented in the README."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from workflow.domain.errors import ConfigError

__all__ = ["Settings", "current_user", "default_home", "load_settings"]


def default_home() -> Path:
    """Where ktmb keeps its embedded database and keys when ``KTMB_HOME`` is not set.

    As root: ``/var/lib/ktmb`` (never under ``$HOME``: the embedded server runs as its own
    system user and must read the directory). Otherwise ``$XDG_DATA_HOME/ktmb`` or
    ``~/.local/share/ktmb``.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/ktmb")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ktmb"


class Settings(BaseModel):
    """Process-wide settings."""

    model_config = ConfigDict(frozen=True)

    home: Path
    database_url: str | None = None
    max_file_bytes: int = 20 * 1024 * 1024
    max_documents: int = 50_000
    max_depth: int = 64
    max_aliases: int = 10_000
    max_nodes: int = 200_000
    redaction_key: str | None = None
    user: str = "unknown"
    groups: tuple[str, ...] = ()

    @property
    def pgdata(self) -> Path:
        """Data directory of the embedded PostgreSQL."""
        return self.home / "pgdata"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None


def current_user() -> str:
    """Who runs ktmb: ``KTMB_USER``, else the login name.

    The login name is ``LOGNAME``, ``USER``, ... or, in a container or under cron where none is
    set, the account of the process's user id.
    """
    if os.environ.get("KTMB_USER"):
        return os.environ["KTMB_USER"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a user id without an account (a container's --user 1234)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def load_settings() -> Settings:
    """Read the settings from the environment."""
    home = os.environ.get("KTMB_HOME")
    user = current_user()
    groups = tuple(g.strip() for g in os.environ.get("KTMB_GROUPS", "").split(",") if g.strip())
    return Settings(
        home=Path(home).expanduser() if home else default_home(),
        database_url=os.environ.get("KTMB_DATABASE_URL") or None,
        max_file_bytes=_int("KTMB_MAX_FILE_BYTES", 20 * 1024 * 1024),
        max_documents=_int("KTMB_MAX_DOCUMENTS", 50_000),
        max_depth=_int("KTMB_MAX_DEPTH", 64),
        max_aliases=_int("KTMB_MAX_ALIASES", 10_000),
        max_nodes=_int("KTMB_MAX_NODES", 200_000),
        redaction_key=os.environ.get("KTMB_REDACTION_KEY") or None,
        user=user,
        groups=groups,
    )
