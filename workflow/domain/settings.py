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
    # Sizes are "as loaded" (workflow.domain.safe_yaml: JSON with aliases expanded plus the line
    # index, about 2-3 times the YAML). What PostgreSQL holds at these limits, measured on
    # generated worst cases: the inputs snapshot in a run's first checkpoint (a bytea blob,
    # 1 GB at most) is 1.0-1.2 times the inputs' size, at most 2 times (labels and
    # annotations are kept twice): <= 64 MiB. The threat model (text since migration 0005,
    # 1 GB at most; jsonb refuses 256 MB) grows with findings: about 23 kB per container
    # (<= 116 MB at 5,000) and up to 14 times the size of what makes other findings (the
    # subjects of a cluster-admin binding; credential-like env values are 10 times): <= about
    # 600 MB. A phase's findings channel in a checkpoint is a part of that.
    max_object_bytes: int = 8 * 1024 * 1024
    max_input_bytes: int = 32 * 1024 * 1024
    max_containers: int = 100
    max_total_containers: int = 5_000
    redaction_key: str | None = None
    user: str = "unknown"
    groups: tuple[str, ...] = ()

    @property
    def pgdata(self) -> Path:
        """Data directory of the embedded PostgreSQL."""
        return self.home / "pgdata"


def _limit(name: str, default: int) -> int:
    """A ``KTMB_MAX_*`` limit: a positive whole number."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigError(f"{name} must be a positive whole number, got {value!r}")
    return number


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
        max_file_bytes=_limit("KTMB_MAX_FILE_BYTES", 20 * 1024 * 1024),
        max_documents=_limit("KTMB_MAX_DOCUMENTS", 50_000),
        max_depth=_limit("KTMB_MAX_DEPTH", 64),
        max_aliases=_limit("KTMB_MAX_ALIASES", 10_000),
        max_nodes=_limit("KTMB_MAX_NODES", 200_000),
        max_object_bytes=_limit("KTMB_MAX_OBJECT_BYTES", 8 * 1024 * 1024),
        max_input_bytes=_limit("KTMB_MAX_INPUT_BYTES", 32 * 1024 * 1024),
        max_containers=_limit("KTMB_MAX_CONTAINERS", 100),
        max_total_containers=_limit("KTMB_MAX_TOTAL_CONTAINERS", 5_000),
        redaction_key=os.environ.get("KTMB_REDACTION_KEY") or None,
        user=user,
        groups=groups,
    )
