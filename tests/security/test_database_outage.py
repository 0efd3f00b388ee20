"""The database dying in the middle of a run: one line, exit 2, the run resumable when it is back.

A private embedded PostgreSQL (not the session's shared one) is stopped with ``pg_ctl stop -m
immediate`` while the run sleeps inside its network phase (``KTMB_TEST_PHASE_DELAY``), then
started again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MANIFESTS = str(REPO / "examples" / "payments" / "manifests")


class PrivateServer:
    """An embedded PostgreSQL in a temporary directory that a test may stop and start."""

    def __init__(self, pgdata: Path) -> None:
        import pgserver

        from workflow.embedded_pgvector import ensure_portable_pgvector

        ensure_portable_pgvector()
        self.pgdata = pgdata
        server = pgserver.get_server(pgdata, cleanup_mode=None)  # type: ignore[attr-defined]
        self.url = str(server.get_uri())
        self.socket_dir = str(server.get_postmaster_info().socket_dir)
        self.user = "pgserver" if os.geteuid() == 0 else None

    def _pg_ctl(self, *args: str) -> None:
        import pgserver

        pgserver.pg_ctl(list(args), pgdata=self.pgdata, user=self.user)  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Stop the server at once, as a crash would."""
        self._pg_ctl("-w", "stop", "-m", "immediate")

    def start(self) -> None:
        """Start the server again on the same socket."""
        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}",
                     "-l", str(self.pgdata / "log"), "start")


@pytest.fixture
def server() -> Iterator[PrivateServer]:
    """A private embedded server, stopped and removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="ktmb-outage-", dir="/tmp"))
    private = PrivateServer(root / "pgdata")
    try:
        yield private
    finally:
        if (private.pgdata / "postmaster.pid").exists():
            try:
                private.stop()
            except (subprocess.CalledProcessError, OSError):
                pass
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def env(server: PrivateServer, tmp_path: Path) -> dict[str, str]:
    """The CLI's environment on the private server, without the embedder."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KTMB_")}
    env.update({"KTMB_HOME": str(home), "KTMB_DATABASE_URL": server.url,
                "KTMB_REDACTION_KEY": "test-key", "KTMB_USER": "tester",
                "KTMB_EMBEDDINGS": "off", "PYTHONUNBUFFERED": "1"})
    return env


def _ktmb(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workflow", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)


def _wait_for_network_phase(url: str, proc: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before reaching the network phase"
        try:
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT run_id FROM runs WHERE status = 'running' AND "
                                   "current_phase = 'network'").fetchone()
        except psycopg.errors.UndefinedTable:
            row = None
        if row is not None:
            return str(row[0])
        time.sleep(0.2)
    raise AssertionError("no run reached the network phase in 120 s")


def test_database_stopped_mid_run_fails_fast_and_the_run_resumes(
        server: PrivateServer, env: dict[str, str]) -> None:
    """Exit 2 within seconds with one error line; after a restart the run is interrupted."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "workflow", "--log-json", "run", MANIFESTS, "--app", "payments"],
        env={**env, "KTMB_TEST_PHASE_DELAY": "network:5"}, cwd=REPO, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        run_id = _wait_for_network_phase(server.url, proc)
        server.stop()
        stopped = time.monotonic()
        try:
            _, stderr = proc.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
        elapsed = time.monotonic() - stopped
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    lines = [line for line in stderr.splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # with --log-json every line is an event
    failed = [e["message"] for e in events if e.get("event") == "command_failed"]
    pool = [e for e in events if "pool" in str(e.get("event", ""))]
    assert 2 == proc.returncode, stderr[-2000:]
    assert elapsed < 15, f"took {elapsed:.0f} s to give up"  # the phase itself sleeps 5 s
    assert 1 == len(failed), lines
    assert [] == pool, pool
    assert failed[0].startswith("the database at "), failed
    assert "cannot be reached" in failed[0]
    assert f"ktmb resume {run_id}" in failed[0]

    server.start()
    status = _ktmb(env, "status", run_id, "--json")
    assert 0 == status.returncode, status.stderr
    assert "interrupted" == json.loads(status.stdout)["status"]
    resumed = _ktmb(env, "resume", run_id)
    assert 0 == resumed.returncode, resumed.stderr
    assert "completed" == json.loads(_ktmb(env, "status", run_id, "--json").stdout)["status"]


def test_runs_list_marks_a_run_without_a_process_interrupted(env: dict[str, str]) -> None:
    """A run left 'running' by a process that is gone is listed as interrupted."""
    started = _ktmb(env, "run", MANIFESTS, "--app", "payments")
    assert 0 == started.returncode, started.stderr
    run_id = started.stdout.split()[0]
    with psycopg.connect(env["KTMB_DATABASE_URL"], autocommit=True) as conn:
        conn.execute("UPDATE runs SET status = 'running', finished_at = NULL "
                     "WHERE run_id = %s", (run_id,))
    listed = _ktmb(env, "runs", "--json")
    assert 0 == listed.returncode, listed.stderr
    assert ["interrupted"] == [r["status"] for r in json.loads(listed.stdout)]
