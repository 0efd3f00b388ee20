"""The embedded PostgreSQL (pgserver): start or attach, and stop it with its last live user.

pgserver lists the processes that use a data directory in ``<pgdata>/.handle_pids.json``
(guarded by an inter-process lock file) and stops the server when the last of them exits
normally. A process that dies without exiting normally (SIGKILL, an OOM kill, a signal's default
action) stays in that list, and no later process would ever stop the server. So before
attaching, the pids of processes that are gone are pruned from the list, under the same lock
pgserver takes: the process that attaches then stops the server when it exits, unless a live
process still uses it.
"""

from __future__ import annotations

import json
import threading
import warnings
from pathlib import Path
from typing import Any

import fasteners
import psutil
import structlog

from workflow.domain.errors import DatabaseUnavailableError, one_line
from workflow.embedded_pgvector import ensure_portable_pgvector

__all__ = ["embedded_server_uri", "prune_dead_handles"]

log = structlog.get_logger(__name__)

_HANDLES = ".handle_pids.json"  # pgserver's list of the processes using a data directory
_servers: dict[Path, Any] = {}
_servers_lock = threading.Lock()


def _pgserver() -> Any:
    """The pgserver package (loaded only where the embedded database is used)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR not set
        import pgserver  # only the embedded database needs the server's wheel
    return pgserver


def _holds(pid: int, listed_since: float) -> bool:
    """Whether process ``pid`` may still be the one that registered in the handle list.

    A pid that no longer exists, a zombie, or a process started after the list was last
    written (the pid was reused) does not hold the server.
    """
    try:
        process = psutil.Process(pid)
        zombie: bool = process.status() == psutil.STATUS_ZOMBIE
        started: float = process.create_time()
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # another user's live process
        return True
    return not zombie and started <= listed_since + 1.0


def prune_dead_handles(pgdata: Path) -> list[int]:
    """Remove the processes that are gone from pgserver's handle list of ``pgdata``.

    Runs under pgserver's own inter-process lock (the lock file it takes to attach and to
    detach), so no process attaches or detaches meanwhile.

    Returns:
        The pids removed.
    """
    path = pgdata / _HANDLES
    lock = fasteners.InterProcessLock(str(_pgserver().PostgresServer.lock_path))
    with lock:
        if not path.exists():
            return []
        try:
            pids = [int(p) for p in json.loads(path.read_text())]
        except (ValueError, TypeError) as exc:  # unreadable: pgserver would fail on it too
            log.warning("embedded_handles_unreadable", path=str(path), error=one_line(exc))
            pids = []
        listed_since = path.stat().st_mtime
        live = [pid for pid in pids if _holds(pid, listed_since)]
        if live != pids:
            path.write_text(json.dumps(live))
    dead = [pid for pid in pids if pid not in live]
    if dead:
        log.info("embedded_handles_pruned", pids=dead)
    return dead


def embedded_server_uri(pgdata: Path) -> str:
    """Start (or attach to) the embedded PostgreSQL in ``pgdata`` and return its URI.

    Raises:
        DatabaseUnavailableError: the server cannot be started.
    """
    with _servers_lock:
        server = _servers.get(pgdata)
        if server is None:
            pgserver = _pgserver()
            pgdata.parent.mkdir(parents=True, exist_ok=True)
            ensure_portable_pgvector()
            try:
                if pgdata.exists():
                    prune_dead_handles(pgdata)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR not set
                    server = pgserver.get_server(pgdata, cleanup_mode="stop")
            except Exception as exc:
                raise DatabaseUnavailableError(
                    f"cannot start the embedded PostgreSQL in {pgdata}: {one_line(exc)}"
                ) from exc
            _servers[pgdata] = server
        return str(server.get_uri())
