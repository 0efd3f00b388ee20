"""Batch at scale end to end: several ``ktmb worker`` processes on one database, one killed.

Workers are real subprocesses (``python -m workflow worker``) with short heartbeats so a dead
worker is noticed within seconds; ``KTMB_TEST_PHASE_DELAY=network:N`` holds a run inside its
network phase so a worker can be killed or stopped mid-run.
"""

from __future__ import annotations

import io
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from typer.testing import CliRunner

from agents.run_context import Services
from workflow.cli import app
from workflow.db import open_database
from workflow.domain.inputs import load_inputs
from workflow.domain.settings import Settings
from workflow.log import configure_logging
from workflow.queue import QueueOptions, RunQueue, ensure_queue_schema
from workflow.runs import Runs

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "examples" / "payments" / "manifests"
LATER_PHASES = ["network", "controls", "compliance", "risk_review"]


@pytest.fixture(autouse=True)
def _logs_to_a_buffer() -> Iterator[io.StringIO]:
    """structlog writes to a buffer of this test (a CliRunner stream is closed after use)."""
    buffer = io.StringIO()
    configure_logging(json_logs=True, level="INFO", stream=buffer)
    yield buffer
    configure_logging(json_logs=True, level="WARNING", stream=io.StringIO())


@pytest.fixture
def env(cli_env: dict[str, str], settings: Settings) -> dict[str, str]:
    """The CLI environment with fast heartbeats, immediate retries and no embeddings model.

    The database is migrated first, as a deployment does before it scales workers out.
    """
    ensure_queue_schema(open_database(settings).url)
    return {**cli_env, "KTMB_QUEUE_HEARTBEAT": "1", "KTMB_QUEUE_STALLED_AFTER": "6",
            "KTMB_QUEUE_POLL": "1", "KTMB_QUEUE_RETRY_WAIT": "0", "KTMB_EMBEDDINGS": "off"}


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``ktmb worker`` processes (JSON logs in tmp_path); all are killed at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str], name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "workflow", "--log-json", "--log-level", "INFO", "worker",
             *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            cwd=REPO)
        log.close()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _apps(tmp_path: Path, names: list[str]) -> list[str]:
    paths = []
    for name in names:
        target = tmp_path / "apps" / name
        shutil.copytree(MANIFESTS, target)
        paths.append(str(target))
    return paths


def _enqueue(env: dict[str, str], paths: list[str], *options: str) -> dict[str, str]:
    """``ktmb batch --no-wait --json``: application -> run id."""
    result = CliRunner().invoke(app, ["batch", *paths, "--no-wait", "--json", *options],
                                env=env, catch_exceptions=False)
    assert 0 == result.exit_code, result.stderr
    rows = json.loads(result.stdout)
    assert {"queued"} == {r["status"] for r in rows}
    return {r["application"]: r["run_id"] for r in rows}


def _rows(env: dict[str, str], sql: str, *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(env["KTMB_DATABASE_URL"], autocommit=True,
                         row_factory=dict_row) as conn:
        return list(conn.execute(sql, params).fetchall())


def _runs(env: dict[str, str], run_ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = _rows(env, "SELECT run_id, status, current_phase, error FROM runs "
                      "WHERE run_id = ANY(%s)", run_ids)
    return {r["run_id"]: r for r in rows}


def _pending_jobs(env: dict[str, str], run_ids: list[str]) -> int:
    rows = _rows(env, "SELECT count(*) AS n FROM procrastinate_jobs WHERE lock = ANY(%s) "
                      "AND status IN ('todo', 'doing')", run_ids)
    return int(rows[0]["n"])


def _live_workers(env: dict[str, str]) -> int:
    try:
        rows = _rows(env, "SELECT count(*) AS n FROM procrastinate_workers "
                          "WHERE last_heartbeat > now() - interval '3 seconds'")
    except psycopg.errors.UndefinedTable:  # no worker has created the queue schema yet
        return 0
    return int(rows[0]["n"])


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def _settled(env: dict[str, str], run_ids: list[str], timeout: float = 240) -> None:
    _wait(lambda: _pending_jobs(env, run_ids) == 0, timeout, "the queue to drain")


def _events(log: Path, event: str, run_id: str) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if record.get("event") == event and record.get("run_id") == run_id:
            found.append(record)
    return found


def _phases_done(logs: list[Path], run_id: str) -> list[str]:
    return [e["phase"] for log in logs for e in _events(log, "phase_done", run_id)]


def _model(env: dict[str, str], run_id: str) -> dict[str, Any]:
    rows = _rows(env, "SELECT model FROM threat_models WHERE run_id = %s", run_id)
    assert 1 == len(rows)
    model: dict[str, Any] = json.loads(rows[0]["model"])
    return model


def _finding_ids(env: dict[str, str], run_id: str) -> list[str]:
    return sorted(f["id"] for f in _model(env, run_id)["findings"])


def _checkpoints(env: dict[str, str], run_id: str) -> int:
    rows = _rows(env, "SELECT count(*) AS n FROM checkpoints WHERE thread_id = %s", run_id)
    return int(rows[0]["n"])


def _stop(proc: subprocess.Popen[bytes], timeout: float = 60) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=timeout)


# ---- tests -------------------------------------------------------------------------------------
def test_killed_worker_run_is_resumed_by_another_worker(
        env: dict[str, str], tmp_path: Path, workers: Callable[..., Any]) -> None:
    """SIGKILL a worker inside the network phase: another resumes the run from its checkpoint."""
    ids = _enqueue(env, _apps(tmp_path, ["alpha", "beta", "gamma"]))
    victim = ids["alpha"]  # the first job, taken by the first worker
    slow = workers({**env, "KTMB_TEST_PHASE_DELAY": "network:60"}, "slow")
    _wait(lambda: _runs(env, [victim])[victim]["current_phase"] == "network", 120,
          "the first worker to reach the network phase")
    helpers = [workers(env, f"helper{i}") for i in range(2)]
    slow.kill()
    slow.wait()
    _settled(env, list(ids.values()))
    assert [0, 0] == [_stop(h) for h in helpers]

    runs = _runs(env, list(ids.values()))
    assert {"completed"} == {r["status"] for r in runs.values()}
    assert None is runs[victim]["error"]
    helper_logs = [tmp_path / "helper0.log", tmp_path / "helper1.log"]
    # the killed worker finished the first phases; the resuming worker ran only the rest
    assert ["architecture", "identity", "data", "logging"] == _phases_done(
        [tmp_path / "slow.log"], victim)
    assert LATER_PHASES == _phases_done(helper_logs, victim)
    # same result as the uninterrupted runs of the same manifests, and no step twice
    assert _finding_ids(env, ids["beta"]) == _finding_ids(env, victim)
    assert _finding_ids(env, ids["gamma"]) == _finding_ids(env, victim)
    assert _checkpoints(env, ids["beta"]) == _checkpoints(env, victim)
    jobs = _rows(env, "SELECT status::text AS status, attempts FROM procrastinate_jobs "
                      "WHERE lock = %s", victim)
    assert [{"status": "succeeded", "attempts": 2}] == jobs
    assert 1 == sum(len(_events(log, "stalled_run_requeued", victim)) for log in helper_logs)


def test_sigterm_drains_the_current_node_and_requeues_the_run(
        env: dict[str, str], tmp_path: Path, workers: Callable[..., Any]) -> None:
    """SIGTERM: the node finishes, the run is re-queued, the other worker completes it."""
    slow = {**env, "KTMB_TEST_PHASE_DELAY": "network:10"}  # the drain outlasts stalled-after
    procs = {name: workers(slow, name) for name in ("w0", "w1")}
    _wait(lambda: 2 == _live_workers(env), 120, "both workers to start")
    run_id = _enqueue(env, _apps(tmp_path, ["alpha"]))["alpha"]
    _wait(lambda: _runs(env, [run_id])[run_id]["current_phase"] == "network", 120,
          "a worker to reach the network phase")
    logs = {name: tmp_path / f"{name}.log" for name in procs}
    first = next(n for n in procs if _events(logs[n], "run_attempt", run_id))
    other = next(n for n in procs if n != first)
    assert 0 == _stop(procs[first])
    _settled(env, [run_id])
    assert "completed" == _runs(env, [run_id])[run_id]["status"]
    assert 0 == _stop(procs[other])
    assert ["SIGTERM"] == [e["reason"] for e in _events(logs[first], "run_interrupted",
                                                        run_id)]
    assert ["network"] == _phases_done([logs[first]], run_id)[-1:]
    assert LATER_PHASES[1:] == _phases_done([logs[other]], run_id)
    assert [] == _events(logs[other], "stalled_run_requeued", run_id)  # heartbeats kept
    assert 1 == len(_events(logs[first], "run_requeued", run_id))


def test_run_waiting_for_approval_holds_no_worker(
        env: dict[str, str], tmp_path: Path, workers: Callable[..., Any]) -> None:
    """One single-slot worker: the gated run parks, the next run completes, approval resumes."""
    gated = _enqueue(env, _apps(tmp_path, ["gated"]), "--approval", "architecture")["gated"]
    plain = _enqueue(env, _apps(tmp_path, ["plain"]))["plain"]
    worker = workers(env, "only", "--concurrency", "1")
    _settled(env, [gated, plain])
    runs = _runs(env, [gated, plain])
    assert ("awaiting_approval", "completed") == (runs[gated]["status"],
                                                  runs[plain]["status"])
    assert None is worker.poll()
    assert 0 == _rows(env, "SELECT count(*) AS n FROM procrastinate_jobs "
                           "WHERE status = 'doing'")[0]["n"]
    result = subprocess.run([sys.executable, "-m", "workflow", "approve", gated, "--comment",
                             "ok"], env=env, capture_output=True, text=True, timeout=300,
                            cwd=REPO, check=False)
    assert 0 == result.returncode, result.stderr
    assert "completed" == _runs(env, [gated])[gated]["status"]
    assert 0 == _stop(worker)


def test_poisoned_application_is_retried_then_failed(
        env: dict[str, str], settings: Settings, tmp_path: Path,
        workers: Callable[..., Any]) -> None:
    """A run that fails every attempt is tried three times across workers, then failed."""
    db = open_database(settings)
    runs = Runs(db, lambda _info: Services())
    inputs = load_inputs([MANIFESTS], settings=settings)
    poisoned = runs.start(inputs, application="poisoned", approval=[], execute=False).run_id
    runs.graph.update_state(runs._config(poisoned),
                            {"inputs": {"resources": [{"not": "a resource"}]},
                             "inputs_digest": "poisoned"}, as_node="__start__")
    healthy = runs.start(inputs, application="healthy", approval=[], execute=False).run_id
    with RunQueue(db, QueueOptions(max_attempts=3, retry_wait=0)) as queue:
        queue.enqueue(poisoned)
        queue.enqueue(healthy)
    procs = [workers(env, f"w{i}") for i in range(2)]
    _settled(env, [poisoned, healthy])
    state = _runs(env, [poisoned, healthy])
    assert ("failed", "completed") == (state[poisoned]["status"], state[healthy]["status"])
    assert state[poisoned]["error"].startswith("failed after 3 attempt(s): run poisoned-")
    assert "ValidationError" in state[poisoned]["error"]
    jobs = _rows(env, "SELECT j.status::text AS status, j.attempts, "
                      "(SELECT count(*) FROM procrastinate_events e WHERE e.job_id = j.id "
                      " AND e.type = 'started') AS started "
                      "FROM procrastinate_jobs j WHERE j.lock = %s", poisoned)
    assert [{"status": "failed", "attempts": 3, "started": 3}] == jobs
    assert [None, None] == [p.poll() for p in procs]
    assert [0, 0] == [_stop(p) for p in procs]


def test_batch_summary_with_a_failing_application(env: dict[str, str], tmp_path: Path) -> None:
    """``ktmb batch``: every good application completes, the bad one is failed, exit 1."""
    paths = _apps(tmp_path, ["alpha", "beta"])
    broken = tmp_path / "apps" / "broken"
    broken.mkdir()
    (broken / "deploy.yaml").write_text("kind: Deployment\nmetadata: {name: x\n  bad: [\n",
                                        encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "workflow", "batch", *paths, str(broken), "--workers", "2"],
        env=env, capture_output=True, text=True, timeout=600, cwd=REPO, check=False)
    assert 1 == result.returncode, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["application", "status", "run", "id", "findings", "/", "error"]
    table = {line.split()[0]: line.split(maxsplit=3) for line in lines[1:]}
    assert ["alpha", "beta", "broken"] == sorted(table)
    assert ("completed", "completed", "failed") == (table["alpha"][1], table["beta"][1],
                                                    table["broken"][1]), result.stdout + \
        result.stderr
    assert table["alpha"][3].startswith("critical ")
    assert "deploy.yaml:3: invalid YAML" in table["broken"][3]
    recorded = _runs(env, [table["broken"][2]])
    assert "failed" == recorded[table["broken"][2]]["status"]
