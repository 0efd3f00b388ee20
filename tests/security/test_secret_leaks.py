"""Planted secrets never leave the loader: not in outputs, exports, logs, prompts or rows.

The corpus (tests/fixtures/secrets) holds one unique planted value per way a secret reaches
a manifest or a note: credential-named annotations and labels, command lines (flags, shell
strings, headers, URL credentials), cloud keys with no name, provider tokens, and prose.
The real CLI runs against a recording Ollama server, so every prompt is checked too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.security.recording_ollama import RecordingOllama

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "fixtures" / "secrets"
MANIFESTS = CORPUS / "manifests"
NOTES = CORPUS / "NOTES.md"
PLANTED: dict[str, str] = json.loads((CORPUS / "planted.json").read_text(encoding="utf-8"))
FORMATS = ("json", "sarif", "junit", "markdown", "html", "mermaid", "otm")
#: Tables a run writes to; the dump must have found them (or the check proves nothing).
WRITTEN_TABLES = {"runs", "approvals", "threat_models", "checkpoints", "checkpoint_blobs",
                  "checkpoint_writes", "llm_cache"}


def _fragments(value: str) -> list[str]:
    """The value and its distinctive pieces (a partial leak is a leak)."""
    parts = [value]
    if len(value) >= 24:
        parts += [value[:12], value[-12:]]
    tail = value.rsplit("-", 1)[-1]
    if tail != value and len(tail) >= 6:
        parts.append(tail)
    return parts


def _leaks(text: str) -> list[str]:
    """The planted values of which a piece appears in ``text`` (as such or hex-encoded)."""
    return sorted(value for value in PLANTED if any(
        part in text or part.encode().hex() in text for part in _fragments(value)))


def _ktmb(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "workflow", *map(str, args)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def _database_rows(url: str) -> dict[str, str]:
    """Every row of every table in every schema, as text (bytea as hex), by table."""
    tables: dict[str, str] = {}
    with psycopg.connect(url) as conn:
        names = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema')").fetchall()
        for schema, table in names:
            rows = conn.execute(sql.SQL("SELECT t::text FROM {}.{} t").format(
                sql.Identifier(schema), sql.Identifier(table))).fetchall()
            tables[f"{schema}.{table}"] = "\n".join(str(row[0]) for row in rows)
    return tables


def _outputs(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + "\n" + done.stderr


def _where_leaked(outputs: dict[str, str]) -> dict[str, list[str]]:
    """Each leaked planted value with the channels it reached."""
    where: dict[str, list[str]] = {}
    for channel, text in outputs.items():
        for value in _leaks(text):
            where.setdefault(value, []).append(channel)
    return where


def test_corpus_values_are_unique() -> None:
    """Each planted value occurs once in the corpus files (a leak names its case)."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in [NOTES, *MANIFESTS.iterdir()])
    assert {} == {value: text.count(value) for value in PLANTED if text.count(value) != 1}


def test_run_approve_and_exports_hold_no_planted_value(cli_env: dict[str, str],
                                                       tmp_path: Path) -> None:
    """No planted value in --out JSON, exports, stdout/stderr/JSON logs, prompts or any row."""
    outputs: dict[str, str] = {}
    with RecordingOllama() as model:
        env = {**cli_env, "OLLAMA_HOST": model.host, "KTMB_EMBEDDINGS": "off"}
        out = tmp_path / "model.json"
        direct = _ktmb(env, "--log-json", "run", MANIFESTS, "--architecture", NOTES,
                       "--llm", "ollama", "--out", out)
        assert 0 == direct.returncode, direct.stderr
        outputs["run --out (stdout, stderr)"] = _outputs(direct)
        outputs["run --out (file)"] = out.read_text(encoding="utf-8")
        gated = _ktmb(env, "--log-json", "run", MANIFESTS, "--architecture", NOTES,
                      "--llm", "ollama", "--approval", "network")
        assert 3 == gated.returncode, gated.stderr
        outputs["run --approval network"] = _outputs(gated)
        run_id = gated.stdout.strip().splitlines()[0]
        approved = _ktmb(env, "--log-json", "approve", run_id, "--comment", "fine")
        assert 0 == approved.returncode, approved.stderr
        outputs["approve"] = _outputs(approved)
        for fmt in FORMATS:
            target = tmp_path / f"export.{fmt}"
            exported = _ktmb(env, "--log-json", "export", run_id, "--format", fmt,
                             "--out", target)
            assert 0 == exported.returncode, exported.stderr
            outputs[f"export {fmt}"] = _outputs(exported) + target.read_text(encoding="utf-8")
        prompts = model.prompts()
    assert prompts, "the model server received no prompt"
    assert any("«redacted:hmac-sha256:" in p for p in prompts), "no redacted value in a prompt"
    outputs.update({f"prompt {i}": p for i, p in enumerate(prompts)})
    rows = _database_rows(env["KTMB_DATABASE_URL"])
    assert set() == {t for t in WRITTEN_TABLES if f"public.{t}" not in rows}
    assert rows["public.checkpoint_blobs"] and rows["public.llm_cache"]
    outputs.update({f"table {name}": text for name, text in rows.items()})
    where = _where_leaked(outputs)
    assert [] == sorted(where), where


def test_scan_outputs_hold_no_planted_value(tmp_path: Path) -> None:
    """``ktmb scan`` in every format, with JSON logs: no planted value anywhere."""
    env = {**os.environ, "KTMB_HOME": str(tmp_path / "home"), "KTMB_REDACTION_KEY": "test-key"}
    env.pop("KTMB_DATABASE_URL", None)
    outputs = {}
    for fmt in FORMATS:
        done = _ktmb(env, "--log-json", "scan", MANIFESTS, "--architecture", NOTES,
                     "--format", fmt)
        assert 0 == done.returncode, done.stderr
        outputs[f"scan {fmt}"] = _outputs(done)
    where = _where_leaked(outputs)
    assert [] == sorted(where), where
