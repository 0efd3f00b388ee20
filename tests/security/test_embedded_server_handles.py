"""The embedded PostgreSQL stops once no live ktmb process uses it, whatever the others died of.

pgserver keeps the pids of the processes that use a data directory in
``<pgdata>/.handle_pids.json`` and stops the server when the last one exits normally. A process
killed with SIGKILL (or a ``ktmb serve`` stopped with SIGTERM, before) never left the list, so
no later process ever stopped the server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MANIFESTS = str(REPO / "examples" / "payments" / "manifests")


@pytest.fixture
def home() -> Iterator[Path]:
    """A KTMB_HOME for an embedded server of its own (under /tmp: pgserver opens its parents)."""
    root = Path(tempfile.mkdtemp(prefix="ktmb-handles-", dir="/tmp"))
    try:
        yield root
    finally:
        pgdata = root / "pgdata"
        if (pgdata / "postmaster.pid").exists():
            import pgserver

            try:
                pgserver.pg_ctl(  # type: ignore[attr-defined]
                    ["-w", "stop", "-m", "immediate"], pgdata=pgdata,
                    user="pgserver" if os.geteuid() == 0 else None)
            except (subprocess.CalledProcessError, OSError):
                pass
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    """The CLI's environment on the embedded server (no KTMB_DATABASE_URL)."""
    tokens = home / "tokens.txt"
    tokens.write_text("handles-test-token-0123456789 tester\n")
    tokens.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KTMB_")}
    env.update({"KTMB_HOME": str(home), "KTMB_REDACTION_KEY": "test-key", "KTMB_USER": "tester",
                "KTMB_EMBEDDINGS": "off", "KTMB_API_TOKENS_FILE": str(tokens),
                "PYTHONUNBUFFERED": "1"})
    return env


def _ktmb(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workflow", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)


def _server_running(pgdata: Path) -> bool:
    """Whether a postmaster runs in ``pgdata`` (its pid file names a live process)."""
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _handles(pgdata: Path) -> list[int]:
    path = pgdata / ".handle_pids.json"
    return list(json.loads(path.read_text())) if path.exists() else []


def _wait_for_network_phase(pgdata: Path, proc: subprocess.Popen[str]) -> None:
    url = f"postgresql://postgres:@/postgres?host={pgdata}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                row = conn.execute("SELECT 1 FROM runs WHERE current_phase = 'network'"
                                   ).fetchone()
        except psycopg.Error:  # not started or not migrated yet
            row = None
        if row is not None:
            return
        time.sleep(0.3)
    raise AssertionError("the run did not reach the network phase in 120 s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_health(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("ktmb serve did not answer in 120 s")


def test_a_sigkilled_process_leaves_the_server_to_the_next_one(
        home: Path, env: dict[str, str]) -> None:
    """After a SIGKILLed run, the next ktmb process stops the server when it exits."""
    pgdata = home / "pgdata"
    proc = subprocess.Popen(
        [sys.executable, "-m", "workflow", "run", MANIFESTS, "--app", "payments"],
        env={**env, "KTMB_TEST_PHASE_DELAY": "network:60"}, cwd=REPO,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_network_phase(pgdata, proc)
    finally:
        proc.kill()
        proc.communicate()
    assert [proc.pid] == _handles(pgdata)

    listed = _ktmb(env, "runs")
    assert 0 == listed.returncode, listed.stderr
    assert [] == _handles(pgdata)
    assert not _server_running(pgdata)


def test_sigterm_stops_serve_cleanly_and_releases_the_server(
        home: Path, env: dict[str, str]) -> None:
    """SIGTERM: ktmb serve exits 0 and, as the last user, stops the embedded server."""
    pgdata = home / "pgdata"
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "workflow", "serve", "--port", str(port)],
                            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        _wait_for_health(port, proc)
        assert _server_running(pgdata)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert 0 == proc.returncode, stderr[-2000:]
    assert [] == _handles(pgdata)
    assert not _server_running(pgdata)

    listed = _ktmb(env, "runs")
    assert 0 == listed.returncode, listed.stderr
    assert [] == _handles(pgdata)
    assert not _server_running(pgdata)
