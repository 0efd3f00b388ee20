"""The database layer on a real PostgreSQL: migrations, checksums, unreachable servers."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from workflow import db as db_module
from workflow.db import MIGRATIONS_DIR, open_database, redact_url
from workflow.domain.errors import ConfigError, DatabaseUnavailableError
from workflow.domain.settings import Settings

pytestmark = pytest.mark.integration


def _forget(url: str) -> None:
    """Drop the process-wide cached Database so the next open_database really opens."""
    stale = db_module._opened.pop(url, None)
    if stale is not None:
        stale.close()


def _migration_stems() -> list[str]:
    return sorted(p.stem for p in MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")
                  if not p.name.endswith(".rollback.sql"))


def test_migrations_apply_and_are_idempotent(settings: Settings) -> None:
    """Two opens apply every migration exactly once and record each checksum once."""
    url = settings.database_url or ""
    open_database(settings)
    _forget(url)
    database = open_database(settings)
    with database.connection() as conn:
        applied = [r["migration_id"] for r in conn.execute(
            "SELECT migration_id FROM _yoyo_migration ORDER BY migration_id").fetchall()]
        recorded = [r["migration"] for r in conn.execute(
            "SELECT migration FROM ktmb_migration_checksums ORDER BY migration").fetchall()]
        tables = {r["tablename"] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()}
    assert _migration_stems() == applied
    assert _migration_stems() == recorded
    assert {"runs", "approvals", "threat_models", "checkpoints", "checkpoint_writes"} <= tables


def test_open_database_is_cached_per_url(settings: Settings) -> None:
    """A process opens (and migrates) a database once and then reuses the pool."""
    assert open_database(settings) is open_database(settings)


def test_changed_migration_checksum_is_refused(settings: Settings) -> None:
    """A migration whose recorded checksum differs from the file is refused (exit 2)."""
    url = settings.database_url or ""
    open_database(settings)
    _forget(url)
    first = _migration_stems()[0]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE ktmb_migration_checksums SET sha256 = %s WHERE migration = %s",
                     ("0" * 64, first))
    with pytest.raises(ConfigError) as info:
        open_database(settings)
    assert (f"migration {first}.sql was changed after it was applied; add a new numbered "
            "migration instead") == str(info.value)
    assert 2 == info.value.exit_code
    assert url not in db_module._opened


def test_unreachable_database_is_one_line_without_password(tmp_path: Path) -> None:
    """A server that cannot be reached is a DatabaseUnavailableError, password redacted."""
    url = "postgresql://ktmb:Hunter2-Planted@127.0.0.1:1/ktmb"
    settings = Settings(home=tmp_path, database_url=url, redaction_key="k")
    with pytest.raises(DatabaseUnavailableError) as info:
        open_database(settings)
    message = str(info.value)
    assert 2 == info.value.exit_code
    assert 1 == len(message.splitlines())
    assert "Hunter2-Planted" not in message
    assert message.startswith("cannot connect to the database at "
                              "postgresql://ktmb:***@127.0.0.1:1/ktmb: ")


@pytest.mark.parametrize("url", [
    "postgresql://ktmb:pw@127.0.0.1:1/ktmb",
    "postgresql://127.0.0.1:1/ktmb?user=ktmb&password=pw",
    "host=127.0.0.1 port=1 user=ktmb password=pw",
])
def test_redact_url_hides_every_password_form(url: str) -> None:
    """Whatever form the connection string takes, its password is not shown."""
    assert "pw" not in redact_url(url).replace("port", "").replace("password", "")
