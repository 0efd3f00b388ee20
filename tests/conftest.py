"""Shared fixtures: a real PostgreSQL (embedded pgserver, or KTMB_DATABASE_URL), settings."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.corpus_paths import CORPUS, REPO, corpus_app
from workflow.domain.settings import Settings

EXAMPLES = REPO / "examples"
__all__ = ["CORPUS", "EXAMPLES", "REPO", "corpus_app"]


def _with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    if "?" in url:
        base, query = url.split("?", 1)
        query = "?" + query
    else:
        base, query = url, ""
    base = re.sub(r"/[^/]*$", f"/{name}", base) if base.count("/") >= 3 else f"{base}/{name}"
    return base + query


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """The URL of a PostgreSQL with pgvector: KTMB_DATABASE_URL or a private embedded server."""
    configured = os.environ.get("KTMB_TEST_DATABASE_URL") or os.environ.get("KTMB_DATABASE_URL")
    if configured:
        yield configured
        return
    import pgserver

    from workflow.embedded_pgvector import ensure_portable_pgvector

    ensure_portable_pgvector()
    root = Path(tempfile.mkdtemp(prefix="ktmb-test-pg-", dir="/tmp"))
    server = pgserver.get_server(root / "pgdata", cleanup_mode="stop")  # type: ignore[attr-defined]
    try:
        yield str(server.get_uri())
    finally:
        # Processes killed by tests never unregister from pgserver: stop the server ourselves.
        server.cleanup()
        pgdata = root / "pgdata"
        if (pgdata / "postmaster.pid").exists():
            user = "pgserver" if os.geteuid() == 0 else None
            try:
                pgserver.pg_ctl(  # type: ignore[attr-defined]
                    ["-w", "stop", "-m", "immediate"], pgdata=pgdata, user=user)
            except (subprocess.CalledProcessError, OSError):
                pass
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fresh_database_url(pg_server_url: str) -> Iterator[str]:
    """A new, empty database on the test server (dropped afterwards)."""
    name = f"ktmb_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(pg_server_url, name)
    yield url
    from workflow import db as db_module

    stale = db_module._opened.pop(url, None)
    if stale is not None:
        stale.close()
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(tmp_path: Path, fresh_database_url: str) -> Settings:
    """Settings on a fresh database and a private KTMB_HOME."""
    home = tmp_path / "ktmb-home"
    home.mkdir()
    return Settings(home=home, database_url=fresh_database_url, redaction_key="test-key",
                    user="tester")


@pytest.fixture
def offline_settings(tmp_path: Path) -> Settings:
    """Settings for code that needs no database."""
    home = tmp_path / "ktmb-home"
    home.mkdir()
    return Settings(home=home, redaction_key="test-key", user="tester")


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment variables that point the CLI at the test database and home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KTMB_")}
    env.update({"KTMB_HOME": str(settings.home), "KTMB_DATABASE_URL": settings.database_url or "",
                "KTMB_REDACTION_KEY": "test-key", "KTMB_USER": "tester"})
    return env

