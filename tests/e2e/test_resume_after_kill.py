"""Resume after SIGKILL and SIGTERM in the middle of a phase (real processes, real database)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest

from workflow.domain.threat_model import PHASES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = str(REPO / "examples" / "payments" / "manifests")
NOTES = str(REPO / "examples" / "payments" / "ARCHITECTURE.md")


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    """The CLI environment, without the knowledge base's embedder (slow, and not under test)."""
    return {**cli_env, "KTMB_EMBEDDINGS": "off", "PYTHONUNBUFFERED": "1"}


def _ktmb(env: dict[str, str], *args: str,
          timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workflow", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _start(env: dict[str, str], delay: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "workflow", "--log-json", "run", MANIFESTS, "--architecture",
         NOTES, "--app", "payments"],
        env={**env, "KTMB_TEST_PHASE_DELAY": delay}, cwd=REPO, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def _wait_for_phase(url: str, proc: subprocess.Popen[str], phase: str,
                    timeout: float = 120) -> str:
    """Poll the runs table until the (only) running run is inside ``phase``; its run id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before reaching the phase"
        try:
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT run_id FROM runs WHERE status = 'running' AND "
                                   "current_phase = %s", (phase,)).fetchone()
        except psycopg.errors.UndefinedTable:  # the process has not migrated the database yet
            row = None
        if row is not None:
            return str(row[0])
        time.sleep(0.2)
    raise AssertionError(f"no run reached the {phase} phase in {timeout} s")


def _model(env: dict[str, str], run_id: str) -> dict[str, Any]:
    shown = _ktmb(env, "show", run_id)
    assert 0 == shown.returncode, (shown.returncode, shown.stderr)
    model: dict[str, Any] = json.loads(shown.stdout)
    return model


def _reference_ids(env: dict[str, str]) -> list[str]:
    reference = _ktmb(env, "run", MANIFESTS, "--architecture", NOTES, "--app", "payments")
    assert 0 == reference.returncode, reference.stderr
    return sorted(f["id"] for f in _model(env, reference.stdout.split()[0])["findings"])


def _phase_writes(url: str, run_id: str) -> Counter[str]:
    """How many tasks of each phase node wrote findings into the run's checkpoints."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT DISTINCT task_id, task_path FROM checkpoint_writes "
            "WHERE thread_id = %s AND channel LIKE 'findings\\_%%'", (run_id,)).fetchall()
    names = {p.value for p in PHASES}
    return Counter(node for _, path in rows if (node := str(path).rsplit(", ", 1)[-1]) in names)


def _logged_phases(stderr: str) -> list[str]:
    events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [e["phase"] for e in events if e.get("event") == "phase_done"]


def _status(url: str, run_id: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT status FROM runs WHERE run_id = %s", (run_id,)).fetchone()
    assert row is not None
    return str(row[0])


def test_resume_after_sigkill_matches_an_uninterrupted_run(env: dict[str, str]) -> None:
    """SIGKILL inside the network phase; resume finishes with the same, unique finding ids."""
    url = env["KTMB_DATABASE_URL"]
    proc = _start(env, "network:60")
    try:
        run_id = _wait_for_phase(url, proc, "network")
        proc.send_signal(signal.SIGKILL)
        _, killed_stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert -signal.SIGKILL == proc.returncode
    assert "running" == _status(url, run_id)
    assert ["architecture", "identity", "data", "logging"] == _logged_phases(killed_stderr)

    resumed = _ktmb(env, "--log-json", "resume", run_id)
    assert 0 == resumed.returncode, resumed.stderr
    assert ["network", "controls", "compliance", "risk_review"] == _logged_phases(
        resumed.stderr)
    assert "completed" == _status(url, run_id)

    ids = [f["id"] for f in _model(env, run_id)["findings"]]
    assert len(ids) == len(set(ids))
    assert _reference_ids(env) == sorted(ids)
    assert dict.fromkeys((p.value for p in PHASES), 1) == dict(_phase_writes(url, run_id))


def test_sigterm_finishes_the_node_then_resume_completes(env: dict[str, str]) -> None:
    """SIGTERM drains: the current phase finishes, the run stops as interrupted, resume ends it."""
    url = env["KTMB_DATABASE_URL"]
    proc = _start(env, "network:4")
    try:
        run_id = _wait_for_phase(url, proc, "network")
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert 1 == proc.returncode, stderr
    assert "interrupted" == _status(url, run_id)
    assert f"continue with: ktmb resume {run_id}" in stderr
    assert ["architecture", "identity", "data", "logging", "network"] == _logged_phases(stderr)

    resumed = _ktmb(env, "--log-json", "resume", run_id)
    assert 0 == resumed.returncode, resumed.stderr
    assert ["controls", "compliance", "risk_review"] == _logged_phases(resumed.stderr)
    ids = [f["id"] for f in _model(env, run_id)["findings"]]
    assert len(ids) == len(set(ids))
    assert _reference_ids(env) == sorted(ids)
    assert dict.fromkeys((p.value for p in PHASES), 1) == dict(_phase_writes(url, run_id))
