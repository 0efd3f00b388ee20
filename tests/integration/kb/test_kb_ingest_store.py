"""Ingestion on a real PostgreSQL: idempotency, versions, bad files, built-in corpus, vectors."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from kb.corpus import corpus_digest, load_corpus
from kb.embeddings import MINILM, OllamaEmbedder
from kb.ingest import ensure_builtin, ingest_paths
from kb.retrieval import KnowledgeBase, SearchMode
from kb.store import BUILTIN, Principal
from workflow.domain.errors import ConfigError
from workflow.domain.redaction import Redactor

#: The redaction of the test installation (a fixed key).
REDACTOR = Redactor(key=b"test-key")

pytestmark = pytest.mark.integration

RED = Principal(user="rita", groups=("red",))


def _chunk_rows(kb: KnowledgeBase, collection: str) -> list[tuple[int, str, bool]]:
    with kb.db.connection() as conn:
        rows = conn.execute("SELECT id, anchor, embedding IS NOT NULL AS v FROM kb_chunks "
                            "WHERE collection = %s ORDER BY id", (collection,)).fetchall()
    return [(r["id"], r["anchor"], r["v"]) for r in rows]


def test_unchanged_files_change_nothing(kb: KnowledgeBase, tmp_path: Path,
                                        collection_name: str) -> None:
    """Re-ingesting unchanged files leaves documents and chunk ids exactly as they were."""
    (tmp_path / "a.md").write_text("# Runbook\n## Access\nOnly SRE may exec.\n", "utf-8")
    (tmp_path / "b.txt").write_text("Egress is open to the internet.\n", "utf-8")
    first = ingest_paths(kb.store, RED, [tmp_path], collection=collection_name,
                         embedder=kb.embedder,
        redactor=REDACTOR)
    before = _chunk_rows(kb, collection_name)
    second = ingest_paths(kb.store, RED, [tmp_path], collection=collection_name,
                          embedder=kb.embedder,
        redactor=REDACTOR)
    assert ["added", "added"] == [f.status for f in first.files]
    assert ["unchanged", "unchanged"] == [f.status for f in second.files]
    assert before == _chunk_rows(kb, collection_name)
    assert all(has_vector for _, _, has_vector in before)


def test_changed_file_replaces_chunks_and_bumps_version(kb: KnowledgeBase, tmp_path: Path,
                                                        collection_name: str) -> None:
    """A changed file gets version 2 and only its new text is searchable."""
    path = tmp_path / "notes.md"
    path.write_text("# Notes\nThe payments namespace uses quokkapolicy alpha.\n", "utf-8")
    ingest_paths(kb.store, RED, [path], collection=collection_name, embedder=kb.embedder,
        redactor=REDACTOR)
    path.write_text("# Notes\nThe payments namespace now uses wombatpolicy beta.\n", "utf-8")
    report = ingest_paths(kb.store, RED, [path], collection=collection_name,
                          embedder=kb.embedder,
        redactor=REDACTOR)
    assert [("updated", 2)] == [(f.status, f.version) for f in report.files]
    retriever = kb.retriever(RED, collections=[collection_name])
    assert [] == retriever.search_mode("quokkapolicy", mode=SearchMode.TEXT)
    hits = retriever.search_mode("wombatpolicy", mode=SearchMode.TEXT)
    assert [2] == [h.version for h in hits]
    assert 1 == len(_chunk_rows(kb, collection_name))


def test_secrets_in_a_document_never_reach_the_store(kb: KnowledgeBase, tmp_path: Path,
                                                    collection_name: str) -> None:
    """A password or key in a team's document is stored as a redaction marker, never as is."""
    planted = ("Ledger-Db-Pass-7Qx2", "AKIAKBPLANTED0000007")
    (tmp_path / "runbook.md").write_text(
        "# Ledger runbook\n## Database\nThe ledger DB password is Ledger-Db-Pass-7Qx2 and the "
        "deploy key is AKIAKBPLANTED0000007.\n", "utf-8")
    ingest_paths(kb.store, RED, [tmp_path], collection=collection_name, embedder=kb.embedder,
                 redactor=REDACTOR)
    with kb.db.connection() as conn:
        rows = conn.execute("SELECT c.body, d.title FROM kb_chunks c JOIN kb_documents d "
                            "ON d.id = c.document_id WHERE c.collection = %s",
                            (collection_name,)).fetchall()
    stored = " ".join(f"{r['body']} {r['title']}" for r in rows)
    assert [] == [value for value in planted if value in stored]
    assert "«redacted" in stored


def test_bad_files_do_not_stop_the_others(kb: KnowledgeBase, tmp_path: Path,
                                          collection_name: str) -> None:
    """A corrupt PDF and a missing path each give one error line; the good file is ingested."""
    (tmp_path / "good.md").write_text("# Good\nUseful text about ingress TLS.\n", "utf-8")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    report = ingest_paths(kb.store, RED, [tmp_path / "good.md", tmp_path / "broken.pdf",
                                          tmp_path / "missing.md"],
                          collection=collection_name, embedder=kb.embedder,
        redactor=REDACTOR)
    assert ["added", "error", "error"] == [f.status for f in report.files]
    assert all(f.error and "\n" not in f.error for f in report.failed)
    assert "no such file" in (report.files[2].error or "")


def test_threat_model_findings_are_searchable(kb: KnowledgeBase, tmp_path: Path,
                                              collection_name: str) -> None:
    """A past threat model's findings become passages cited by finding id."""
    model = {
        "schema_version": "1.0", "run_id": "run-7", "created_at": "2026-01-01T00:00:00Z",
        "application": {"name": "ledger"}, "generator": {"version": "0.1"},
        "phases": {"identity": {}},
        "findings": [{"id": "identity.cluster-admin@ServiceAccount/ledger/batch",
                      "rule": "identity.cluster-admin", "title": "Batch job is cluster-admin",
                      "description": "The ledger batch ServiceAccount is bound to cluster-admin.",
                      "phase": "identity"}],
    }
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(model), "utf-8")
    ingest_paths(kb.store, RED, [path], collection=collection_name, embedder=kb.embedder,
        redactor=REDACTOR)
    hits = kb.retriever(RED, collections=[collection_name]).search(
        "ledger batch cluster-admin", k=2)
    assert hits[0].chunk_id.endswith("#identity.cluster-admin@ServiceAccount/ledger/batch")
    assert "Batch job is cluster-admin" == hits[0].section


def test_builtin_corpus_is_ingested_once_with_its_digest(kb: KnowledgeBase) -> None:
    """A second refresh changes nothing; every passage is stored under its id, with a vector."""
    status = ensure_builtin(kb.store, kb.embedder)
    info = kb.store.visible_collection(Principal(user="anyone"), BUILTIN)
    passages = {p.id for d in load_corpus() for p in d.passages}
    assert False is status.changed
    assert info is not None and corpus_digest() == info.corpus_digest
    assert (True, MINILM, 384) == (info.public, info.embedding_model, info.dimension)
    rows = _chunk_rows(kb, BUILTIN)
    assert passages == {anchor for _, anchor, _ in rows}
    assert all(v for _, _, v in rows)


def test_chunks_without_vectors_are_backfilled(kb: KnowledgeBase, tmp_path: Path,
                                               collection_name: str) -> None:
    """Chunks ingested without embeddings are found by keywords and embedded later."""
    path = tmp_path / "plain.md"
    path.write_text("# Plain\nThe capybara service keeps card data.\n", "utf-8")
    no_vectors = KnowledgeBase(kb.db, use_embeddings=False)
    ingest_paths(no_vectors.store, RED, [path], collection=collection_name, embedder=None,
        redactor=REDACTOR)
    assert [False] == [v for _, _, v in _chunk_rows(kb, collection_name)]
    retriever = no_vectors.retriever(RED, collections=[collection_name])
    hits = retriever.search("capybara card data")
    assert ["Plain"] == [h.section for h in hits]
    assert any("full-text search only" in note for note in retriever.notes)
    ingest_paths(kb.store, RED, [path], collection=collection_name, embedder=kb.embedder,
        redactor=REDACTOR)
    assert [True] == [v for _, _, v in _chunk_rows(kb, collection_name)]


def _stats_drift(kb: KnowledgeBase, collection: str) -> list[tuple[bool, str, int, int]]:
    """Lexemes whose kb_lexeme_stats count differs from a recount over the chunks."""
    with kb.db.connection() as conn:
        rows = conn.execute(
            "WITH fresh AS (SELECT l.simple, l.lexeme, count(*) AS n FROM kb_chunks c, "
            "kb_chunk_lexemes(c.tsv, c.tsv_simple) l WHERE c.collection = %(c)s GROUP BY 1, 2), "
            "kept AS (SELECT simple, lexeme, chunks AS n FROM kb_lexeme_stats "
            "WHERE collection = %(c)s AND chunks <> 0) "
            "SELECT simple, lexeme, coalesce(kept.n, 0) AS kept, coalesce(fresh.n, 0) AS fresh "
            "FROM fresh FULL JOIN kept USING (simple, lexeme) "
            "WHERE kept.n IS DISTINCT FROM fresh.n", {"c": collection}).fetchall()
    return [(r["simple"], r["lexeme"], r["kept"], r["fresh"]) for r in rows]


def test_lexeme_statistics_follow_inserts_updates_and_deletes(kb: KnowledgeBase, tmp_path: Path,
                                                              collection_name: str) -> None:
    """kb_lexeme_stats stays equal to a recount through add, backfill, change and removal."""
    path = tmp_path / "stats.md"
    path.write_text("# Stats\n## One\nThe okapi gateway logs.\n## Two\nThe okapi mesh.\n", "utf-8")
    no_vectors = KnowledgeBase(kb.db, use_embeddings=False)
    ingest_paths(no_vectors.store, RED, [path], collection=collection_name, embedder=None,
        redactor=REDACTOR)
    assert [] == _stats_drift(kb, collection_name)
    ingest_paths(kb.store, RED, [path], collection=collection_name, embedder=kb.embedder,
        redactor=REDACTOR)
    assert [] == _stats_drift(kb, collection_name)
    path.write_text("# Stats\n## One\nThe tapir gateway logs.\n", "utf-8")
    ingest_paths(kb.store, RED, [path], collection=collection_name, embedder=kb.embedder,
        redactor=REDACTOR)
    assert [] == _stats_drift(kb, collection_name)
    with kb.db.connection() as conn:
        rows = conn.execute(
            "SELECT lexeme, chunks FROM kb_lexeme_stats WHERE collection = %s AND NOT simple "
            "AND lexeme IN ('', 'okapi', 'tapir')", (collection_name,)).fetchall()
    counts = {r["lexeme"]: r["chunks"] for r in rows}
    assert {"": 1, "okapi": 0, "tapir": 1} == counts


def _ollama(model: str) -> OllamaEmbedder:
    def handler(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["input"]
        return httpx.Response(200, json={"embeddings": [[1.0] + [0.0] * 383 for _ in inputs]})
    return OllamaEmbedder("http://127.0.0.1:11434", model,
                          transport=httpx.MockTransport(handler))


def test_collection_refuses_another_embedding_model(kb: KnowledgeBase, tmp_path: Path,
                                                    collection_name: str) -> None:
    """A collection built with MiniLM refuses vectors and queries from another model."""
    path = tmp_path / "doc.md"
    path.write_text("# Doc\nSome text.\n", "utf-8")
    ingest_paths(kb.store, RED, [path], collection=collection_name, embedder=kb.embedder,
        redactor=REDACTOR)
    other = _ollama("nomic-embed-text")
    with pytest.raises(ConfigError, match="embedded with all-minilm-l6-v2"):
        ingest_paths(kb.store, RED, [path], collection=collection_name, embedder=other,
        redactor=REDACTOR)
    mixed = KnowledgeBase(kb.db, embedder=other)
    with pytest.raises(ConfigError, match="ollama:nomic-embed-text"):
        mixed.retriever(RED, collections=[collection_name]).search("text")


def test_ollama_all_minilm_is_compatible(kb: KnowledgeBase, tmp_path: Path,
                                         collection_name: str) -> None:
    """Ollama's all-minilm counts as the same model as the embedded MiniLM."""
    path = tmp_path / "doc.md"
    path.write_text("# Doc\nSome text.\n", "utf-8")
    ingest_paths(kb.store, RED, [path], collection=collection_name, embedder=kb.embedder,
        redactor=REDACTOR)
    report = ingest_paths(kb.store, RED, [path], collection=collection_name,
                          embedder=_ollama("all-minilm"),
        redactor=REDACTOR)
    assert ["unchanged"] == [f.status for f in report.files]


def test_cli_ingest_reports_each_file(kb: KnowledgeBase, kb_env: None, tmp_path: Path,
                                      collection_name: str) -> None:
    """`ktmb kb ingest` prints a line per file, an error line per bad file, and fails at the end."""
    from typer.testing import CliRunner

    from workflow.cli import app

    (tmp_path / "ok.md").write_text("# OK\nNamespaces enforce restricted.\n", "utf-8")
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 nothing here")
    args = ["kb", "ingest", str(tmp_path / "ok.md"), str(tmp_path / "bad.pdf"), "--collection",
            collection_name, "--user", "rita", "--group", "red"]
    result = CliRunner().invoke(app, args)
    assert 2 == result.exit_code
    assert ("ktmb: error: 1 of 2 files could not be ingested (see above)"
            == result.stderr.splitlines()[-1])
    assert 1 == sum(line.startswith("added") for line in result.stdout.splitlines())
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert 1 == len(errors)
    assert errors[0].startswith(f"error: {tmp_path / 'bad.pdf'}: not a readable PDF (")
    again = CliRunner().invoke(app, [*args[:3], *args[4:]])
    assert 0 == again.exit_code, again.output
    assert again.stdout.startswith("unchanged")
