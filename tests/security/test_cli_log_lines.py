"""Standard error stays readable: whole progress lines, and nothing but JSON with --log-json.

A phase that logs a warning (the knowledge base without embeddings, ``KTMB_EMBEDDINGS=off``)
used to land in the middle of the progress line; ``--log-json`` mixed plain-text lines (the run
line, the summary, warnings, errors) into the JSON stream.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.security.cli_process import EXAMPLE, MANIFESTS, ktmb

pytestmark = pytest.mark.e2e

PROGRESS = re.compile(r"^  (architecture|identity|data|logging|network|controls|compliance|"
                      r"risk_review) +\d+ findings?( \[\w+\])?$")


def _json_lines(stderr: str) -> list[dict[str, Any]]:
    """Every line of ``stderr`` as JSON (fails on the first line that is not)."""
    events = []
    for line in stderr.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line on stderr: {line!r}")
    return events


def test_progress_lines_are_whole_when_a_phase_warns(cli_env: dict[str, str]) -> None:
    """Each phase is one whole line; the warning logged meanwhile is a line of its own."""
    done = ktmb(cli_env, "run", MANIFESTS)
    assert 0 == done.returncode, done.stderr
    lines = done.stderr.splitlines()
    progress = [line for line in lines if re.match(r"^  \w+ +\d+ finding", line)]
    assert 8 == len(progress), done.stderr
    assert [] == [line for line in progress if not PROGRESS.match(line)]
    assert 1 == sum("kb_embeddings_unavailable" in line for line in lines), done.stderr


def test_log_json_run_writes_only_json(cli_env: dict[str, str], tmp_path: Path) -> None:
    """--log-json: a run with a warning, its summary and a skipped file, all JSON lines."""
    app = tmp_path / "payments"
    shutil.copytree(EXAMPLE / "manifests", app)
    (app / "Chart.yaml").write_text("apiVersion: v2\nname: payments\nversion: 1.0.0\n",
                                    encoding="utf-8")
    done = ktmb(cli_env, "--log-json", "run", app)
    assert 0 == done.returncode, done.stderr
    events = _json_lines(done.stderr)
    names = [e["event"] for e in events]
    for expected in ("input_skipped", "kb_embeddings_unavailable", "run_started",
                     "threat_model_summary"):
        assert expected in names, names
    assert done.stdout.splitlines()[0] == next(
        e["run_id"] for e in events if e["event"] == "run_started")


def test_log_json_gate_and_error_write_only_json(cli_env: dict[str, str]) -> None:
    """--log-json: a run waiting at a gate, and a failing command, write JSON lines only."""
    waiting = ktmb(cli_env, "--log-json", "run", MANIFESTS, "--approval", "controls")
    assert 3 == waiting.returncode, waiting.stderr
    events = _json_lines(waiting.stderr)
    outcome = [(e["status"], e["phase"]) for e in events if e["event"] == "run_outcome"]
    assert [("awaiting_approval", "controls")] == outcome
    failed = ktmb(cli_env, "--log-json", "approve", "no-such-run")
    assert 2 == failed.returncode
    assert [("error", "command_failed", "no run with id 'no-such-run'")] == [
        (e["level"], e["event"], e["message"]) for e in _json_lines(failed.stderr)]


def test_log_json_scan_writes_only_json(tmp_path: Path) -> None:
    """--log-json: ``ktmb scan`` with --fail-on writes its summary and verdict as JSON."""
    done = ktmb({"KTMB_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}, "--log-json", "scan",
                MANIFESTS, "--fail-on", "high")
    assert 5 == done.returncode, done.stderr
    names = [e["event"] for e in _json_lines(done.stderr)]
    assert ["threat_model_summary", "fail_on_reached"] == [
        n for n in names if n in {"threat_model_summary", "fail_on_reached"}]
