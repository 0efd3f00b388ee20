"""Confidentiality: a principal of one group cannot retrieve, count or infer another group's
chunks — through the library, the CLI, and raw SQL as the reader role."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from kb.ingest import ingest_paths
from kb.retrieval import KnowledgeBase, SearchMode
from kb.store import BUILTIN, Principal
from workflow.cli import app
from workflow.db import Database
from workflow.domain.errors import ConfigError, NotFoundError
from workflow.domain.redaction import Redactor

#: The redaction of the test installation (a fixed key).
REDACTOR = Redactor(key=b"test-key")

pytestmark = pytest.mark.integration

RED = Principal(user="rita", groups=("red",))
BLUE = Principal(user="bob", groups=("blue",))


@pytest.fixture
def secret(kb: KnowledgeBase, tmp_path: Path) -> tuple[str, str]:
    """A red-only collection holding a unique phrase; returns (collection, phrase)."""
    phrase = f"zebracorn{uuid.uuid4().hex[:8]}"
    collection = f"red-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "red-secret.md"
    path.write_text(f"# Red plan\n## Vault\nThe {phrase} key opens the red vault at night.\n",
                    "utf-8")
    report = ingest_paths(kb.store, RED, [path], collection=collection, embedder=kb.embedder,
        redactor=REDACTOR)
    assert ["added"] == [f.status for f in report.files]
    return collection, phrase


def test_owner_group_can_retrieve(kb: KnowledgeBase, secret: tuple[str, str]) -> None:
    """Positive control: the red group finds its own passage in every mode."""
    collection, phrase = secret
    for mode in SearchMode:
        hits = kb.retriever(RED).search_mode(f"{phrase} red vault", mode=mode, k=5)
        assert collection in {h.collection for h in hits}


def test_other_group_cannot_retrieve_count_or_list(kb: KnowledgeBase,
                                                   secret: tuple[str, str]) -> None:
    """Blue sees no red hit, no red count, no red collection or documents."""
    collection, phrase = secret
    retriever = kb.retriever(BLUE)
    for mode in SearchMode:
        hits = retriever.search_mode(f"{phrase} red vault", mode=mode, k=20)
        assert set() == {h.collection for h in hits} - {BUILTIN}
        assert not any(phrase in h.text for h in hits)
    builtin_count = kb.store.count_chunks(BLUE, [BUILTIN])
    assert builtin_count == kb.store.count_chunks(BLUE)
    assert 0 == kb.store.count_chunks(BLUE, [collection])
    assert 1 == kb.store.count_chunks(RED, [collection])
    assert collection not in {c.name for c in kb.store.list_collections(BLUE)}
    assert None is kb.store.visible_collection(BLUE, collection)
    assert [] == kb.store.by_anchor(BLUE, collection, ["red-secret"])


def test_hidden_and_absent_collections_look_the_same(kb: KnowledgeBase,
                                                     secret: tuple[str, str]) -> None:
    """Errors for a hidden collection match those for one that does not exist."""
    collection, _ = secret
    messages = []
    for name in (collection, "no-such-collection"):
        with pytest.raises(NotFoundError) as listing:
            kb.store.list_documents(BLUE, name)
        with pytest.raises(NotFoundError) as searching:
            kb.retriever(BLUE, collections=[name]).search("vault")
        messages.append((str(listing.value).replace(name, "X"),
                         str(searching.value).replace(name, "X")))
    assert messages[0] == messages[1]


def test_other_group_cannot_write_into_the_collection(kb: KnowledgeBase, tmp_path: Path,
                                                      secret: tuple[str, str]) -> None:
    """Blue cannot add documents to a red collection."""
    collection, _ = secret
    path = tmp_path / "blue.md"
    path.write_text("# Blue\nblue text\n", "utf-8")
    with pytest.raises(ConfigError, match="cannot be used"):
        ingest_paths(kb.store, BLUE, [path], collection=collection, embedder=kb.embedder,
        redactor=REDACTOR)


def test_cli_respects_groups(kb: KnowledgeBase, kb_env: None, secret: tuple[str, str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Through `ktmb kb`, blue neither finds, lists nor removes the red collection."""
    collection, phrase = secret
    runner = CliRunner()
    blue = ["--user", "bob", "--group", "blue"]
    searched = runner.invoke(app, ["kb", "search", f"{phrase} red vault", "--k", "20", *blue])
    assert 0 == searched.exit_code, searched.output
    assert phrase not in searched.stdout
    assert f"{collection}/" not in searched.stdout
    listed = runner.invoke(app, ["kb", "list", *blue])
    assert 0 == listed.exit_code
    assert "builtin" in listed.stdout and collection not in listed.stdout
    refusal = f"ktmb: error: no collection {collection!r} is readable by you"
    documents = runner.invoke(app, ["kb", "list", "--collection", collection, *blue])
    assert (2, [refusal]) == (documents.exit_code, documents.stderr.splitlines())
    removed = runner.invoke(app, ["kb", "remove", "--collection", collection, "--yes", *blue])
    assert (2, [refusal]) == (removed.exit_code, removed.stderr.splitlines())
    monkeypatch.setenv("KTMB_USER", "rita")
    monkeypatch.setenv("KTMB_GROUPS", "red")
    as_red = runner.invoke(app, ["kb", "search", f"{phrase} red vault", "--collection", collection])
    assert 0 == as_red.exit_code, as_red.output
    assert phrase in as_red.stdout
    assert f"[1] {collection}/" in as_red.stdout


def _as_reader(conn: psycopg.Connection, groups: str) -> None:
    conn.execute("SET LOCAL ROLE ktmb_reader")
    conn.execute("SELECT set_config('ktmb.groups', %s, true)", (groups,))


def test_raw_sql_as_reader_cannot_see_other_groups(kb_db: Database, kb: KnowledgeBase,
                                                   secret: tuple[str, str]) -> None:
    """As ktmb_reader with blue's groups, direct SQL sees no red rows, statistics or terms."""
    collection, phrase = secret
    with psycopg.connect(kb_db.url) as conn:
        _as_reader(conn, "blue")
        assert (0,) == conn.execute("SELECT count(*) FROM kb_chunks WHERE body LIKE %s",
                                    (f"%{phrase}%",)).fetchone()
        assert (0,) == conn.execute("SELECT count(*) FROM kb_documents WHERE collection = %s",
                                    (collection,)).fetchone()
        assert None is conn.execute("SELECT name FROM kb_collections WHERE name = %s",
                                    (collection,)).fetchone()
        readable = conn.execute("SELECT kb_readable_collections()").fetchone()
        assert readable is not None and collection not in readable[0]
        words = conn.execute("SELECT count(*) FROM ts_stat('SELECT tsv_simple FROM kb_chunks') "
                             "WHERE word LIKE %s", (f"{phrase}%",)).fetchone()
        assert (0,) == words
        assert (0,) == conn.execute("SELECT count(*) FROM pg_stats WHERE tablename IN "
                                    "('kb_chunks', 'kb_documents')").fetchone()
        through_function = conn.execute(
            "SELECT count(*) FROM kb_text_candidates(to_tsquery('simple', %s), true, NULL, NULL, "
            "NULL, 100)", (phrase,)).fetchone()
        assert (0,) == through_function
        assert (0,) == conn.execute(
            "SELECT kb_text_count(to_tsquery('simple', %s), NULL, NULL, NULL, 100)",
            (phrase,)).fetchone()
        assert (0,) == conn.execute(
            "SELECT count(*) FROM kb_text_ranked(to_tsquery('simple', %s), "
            "to_tsquery('simple', %s), true, NULL, NULL, NULL, 100, 100)",
            (phrase, phrase)).fetchone()
        assert (0,) == conn.execute(
            "SELECT count(*) FROM kb_lexeme_stats WHERE collection = %s OR lexeme = %s",
            (collection, phrase)).fetchone()
        joined = conn.execute("SELECT count(*) FROM kb_chunks k JOIN kb_documents d "
                              "ON d.id = k.document_id WHERE d.collection = %s",
                              (collection,)).fetchone()
        assert (0,) == joined
        conn.rollback()
    with psycopg.connect(kb_db.url) as conn:
        _as_reader(conn, "red")
        assert (1,) == conn.execute("SELECT count(*) FROM kb_chunks WHERE body LIKE %s",
                                    (f"%{phrase}%",)).fetchone()
        assert (1,) == conn.execute(
            "SELECT count(*) FROM kb_text_candidates(to_tsquery('simple', %s), true, NULL, NULL, "
            "NULL, 100)", (phrase,)).fetchone()
        assert (1,) == conn.execute(
            "SELECT count(*) FROM kb_text_ranked(to_tsquery('simple', %s), "
            "to_tsquery('simple', %s), true, NULL, NULL, NULL, 100, 100)",
            (phrase, phrase)).fetchone()
        assert (1,) == conn.execute(
            "SELECT chunks FROM kb_lexeme_stats WHERE collection = %s AND simple AND lexeme = %s",
            (collection, phrase)).fetchone()
        conn.rollback()


def test_raw_sql_without_groups_sees_only_the_builtin_corpus(kb_db: Database, kb: KnowledgeBase,
                                                             secret: tuple[str, str]) -> None:
    """With no groups set, the reader sees the public built-in corpus and nothing else."""
    with psycopg.connect(kb_db.url) as conn:
        conn.execute("SET LOCAL ROLE ktmb_reader")
        rows = conn.execute("SELECT DISTINCT collection FROM kb_chunks").fetchall()
        assert [(BUILTIN,)] == rows
        conn.rollback()


@pytest.mark.parametrize("statement", [
    "SET row_security = off; SELECT count(*) FROM kb_chunks",
    "UPDATE kb_collections SET read_groups = '{blue}'",
    "INSERT INTO kb_collections (name, embedding_model, dimension) VALUES ('x', 'm', 384)",
    "DELETE FROM kb_chunks",
    "ALTER TABLE kb_chunks DISABLE ROW LEVEL SECURITY",
])
def test_reader_role_cannot_bypass_or_write(kb_db: Database, kb: KnowledgeBase,
                                            secret: tuple[str, str], statement: str) -> None:
    """The reader role can neither switch row security off nor change any row."""
    with psycopg.connect(kb_db.url) as conn:
        _as_reader(conn, "blue")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            for part in statement.split("; "):
                conn.execute(part)
        conn.rollback()
