"""The batch job queue on a real PostgreSQL: schema, queued runs, retries, approval, stalls."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import procrastinate.schema
import psycopg
import pytest

from agents.run_context import Services
from workflow import queue as queue_module
from workflow.db import Database, open_database
from workflow.domain.errors import ConfigError, RunStateError
from workflow.domain.inputs import LoadedInputs, load_inputs
from workflow.domain.run import Decision
from workflow.domain.settings import Settings
from workflow.log import configure_logging
from workflow.queue import QUEUE, QueueOptions, RunQueue, ensure_queue_schema, make_app
from workflow.runs import Runs
from workflow.worker import reap_stalled_jobs, run_worker

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "examples" / "payments" / "manifests"
FAST = QueueOptions(max_attempts=3, retry_wait=0, heartbeat=1, stalled_after=3, poll=0.5)


@pytest.fixture(autouse=True)
def _logs_to_a_buffer() -> Iterator[io.StringIO]:
    """structlog writes to a buffer of this test (a CliRunner stream is closed after use)."""
    buffer = io.StringIO()
    configure_logging(json_logs=True, level="INFO", stream=buffer)
    yield buffer
    configure_logging(json_logs=True, level="WARNING", stream=io.StringIO())


@pytest.fixture
def db(settings: Settings) -> Database:
    """The migrated test database."""
    return open_database(settings)


@pytest.fixture
def runs(db: Database) -> Runs:
    """Runs without a model or knowledge base (the queue is under test, not the analysis)."""
    return Runs(db, lambda _info: Services())


@pytest.fixture
def queue(db: Database) -> Iterator[RunQueue]:
    """The enqueuer with fast test options."""
    with RunQueue(db, FAST) as q:
        yield q


@pytest.fixture
def inputs(settings: Settings) -> LoadedInputs:
    """The example payments application."""
    return load_inputs([MANIFESTS], settings=settings)


def _queued(runs: Runs, inputs: LoadedInputs, name: str, approval: list[str] | None = None,
            ) -> str:
    return runs.start(inputs, application=name, approval=approval or [], execute=False).run_id


def _poison(runs: Runs, run_id: str) -> None:
    """Replace a queued run's inputs with a snapshot no phase can read (fails every attempt)."""
    runs.graph.update_state(runs._config(run_id),
                            {"inputs": {"resources": [{"not": "a resource"}]},
                             "inputs_digest": "poisoned"}, as_node="__start__")


def _jobs(db: Database, run_id: str) -> list[dict[str, Any]]:
    with db.connection() as conn:
        return list(conn.execute(
            "SELECT id, task_name, status::text AS status, attempts FROM procrastinate_jobs "
            "WHERE lock = %s ORDER BY id", (run_id,)).fetchall())


def _started(db: Database, job_id: int) -> int:
    with db.connection() as conn:
        row = conn.execute("SELECT count(*) AS n FROM procrastinate_events "
                           "WHERE job_id = %s AND type = 'started'", (job_id,)).fetchone()
    return int(row["n"]) if row else 0


def _drain(db: Database, runs: Runs) -> None:
    """Run an in-process worker until the queue has nothing ready."""
    assert 0 == run_worker(db, runs, once=True, options=FAST, name="test-worker")


def _finding_ids(runs: Runs, run_id: str) -> list[str]:
    return sorted(f.id for f in runs.threat_model(run_id).findings)


# ---- schema --------------------------------------------------------------------------------------
def _has_queue_schema(db: Database) -> bool:
    """procrastinate's own health check: does ``procrastinate_jobs`` exist?"""
    app = make_app(db.url)
    app.open(db.pool)
    try:
        return app.check_connection()
    finally:
        app.close()


def test_schema_is_applied_once_by_concurrent_processes(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight concurrent first uses on a new database apply procrastinate's schema once."""
    assert not _has_queue_schema(db)  # a new database
    applied: list[str] = []
    apply_schema = procrastinate.schema.SchemaManager.apply_schema

    def counting(self: procrastinate.schema.SchemaManager) -> None:
        applied.append(threading.current_thread().name)
        apply_schema(self)

    monkeypatch.setattr(procrastinate.schema.SchemaManager, "apply_schema", counting)
    errors: list[BaseException] = []

    def apply() -> None:
        try:
            ensure_queue_schema(db.url)
        except BaseException as exc:  # pragma: no cover - reported by the assert
            errors.append(exc)

    threads = [threading.Thread(target=apply) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [] == errors
    assert 1 == len(applied)
    assert _has_queue_schema(db)


def test_an_existing_schema_is_left_as_it_is(db: Database,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A database that has procrastinate's schema is not touched again (no re-apply)."""
    ensure_queue_schema(db.url)

    def refuse(_self: object) -> None:  # pragma: no cover - the failure itself
        raise AssertionError("the schema was applied to a database that has it")

    monkeypatch.setattr(procrastinate.schema.SchemaManager, "apply_schema", refuse)
    ensure_queue_schema(db.url)
    ensure_queue_schema(db.url)


def test_a_legacy_queue_schema_table_is_harmless(db: Database) -> None:
    """``ktmb_queue_schema`` of earlier versions is neither required nor created nor read."""
    ensure_queue_schema(db.url)
    with db.connection() as conn:
        assert conn.execute("SELECT to_regclass('ktmb_queue_schema') AS t").fetchone() == {
            "t": None}
        conn.execute("CREATE TABLE ktmb_queue_schema (component text PRIMARY KEY, "
                     "version text NOT NULL)")
        conn.execute("INSERT INTO ktmb_queue_schema VALUES ('procrastinate', '99.00.00')")
    ensure_queue_schema(db.url)  # a recorded "newer" version no longer matters
    assert _has_queue_schema(db)


def test_queue_options_refuse_a_stalled_timeout_below_two_heartbeats() -> None:
    """Live workers must not be taken for dead: stalled-after >= 2 heartbeats."""
    with pytest.raises(ConfigError, match="at least twice"):
        QueueOptions(heartbeat=10, stalled_after=15)


def test_queue_options_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """KTMB_QUEUE_* set the defaults; explicit values win."""
    monkeypatch.setenv("KTMB_QUEUE_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("KTMB_QUEUE_HEARTBEAT", "2")
    monkeypatch.setenv("KTMB_QUEUE_STALLED_AFTER", "9")
    options = queue_module.queue_options(stalled_after=12)
    assert (5, 2.0, 12.0) == (options.max_attempts, options.heartbeat, options.stalled_after)


# ---- runs through the queue ----------------------------------------------------------------------
def test_queued_run_is_executed_by_a_worker_like_an_uninterrupted_run(
        db: Database, runs: Runs, queue: RunQueue, inputs: LoadedInputs) -> None:
    """start(execute=False) + a worker job gives the same model as a run executed in place."""
    run_id = _queued(runs, inputs, "queued-app")
    assert "queued" == runs.info(run_id).status
    assert ("architecture",) == runs.graph.get_state(runs._config(run_id)).next
    job_id = queue.enqueue(run_id)
    assert None is queue.enqueue(run_id)  # one waiting job per run (queueing lock)
    _drain(db, runs)
    direct = runs.start(inputs, application="direct-app", approval=[])
    assert ("completed", "completed") == (runs.info(run_id).status, direct.status)
    assert _finding_ids(runs, direct.run_id) == _finding_ids(runs, run_id)
    assert [{"id": job_id, "task_name": "ktmb:run_application", "status": "succeeded",
             "attempts": 1}] == _jobs(db, run_id)
    assert [] == [p for p in queue.progress([run_id]) if p.pending]


def test_poisoned_run_is_retried_then_failed_with_its_error(
        db: Database, runs: Runs, queue: RunQueue, inputs: LoadedInputs) -> None:
    """A run that fails on every attempt is tried max_attempts times, then marked failed."""
    poisoned = _queued(runs, inputs, "poisoned-app")
    _poison(runs, poisoned)
    healthy = _queued(runs, inputs, "healthy-app")
    job_id = queue.enqueue(poisoned)
    queue.enqueue(healthy)
    _drain(db, runs)
    info = runs.info(poisoned)
    assert "failed" == info.status
    assert info.error is not None
    assert info.error.startswith("failed after 3 attempt(s): run ")
    assert "ValidationError" in info.error
    assert [{"id": job_id, "task_name": "ktmb:run_application", "status": "failed",
             "attempts": 3}] == _jobs(db, poisoned)
    assert 3 == _started(db, job_id or 0)
    assert "completed" == runs.info(healthy).status


def test_max_attempts_travels_with_the_job(db: Database, runs: Runs, queue: RunQueue,
                                           inputs: LoadedInputs) -> None:
    """A job enqueued with max_attempts=1 is not retried."""
    run_id = _queued(runs, inputs, "once-app")
    _poison(runs, run_id)
    job_id = queue.enqueue(run_id, max_attempts=1)
    _drain(db, runs)
    assert 1 == _started(db, job_id or 0)
    assert (runs.info(run_id).error or "").startswith("failed after 1 attempt(s)")


def test_run_waiting_for_approval_holds_no_worker(db: Database, runs: Runs, queue: RunQueue,
                                                  inputs: LoadedInputs) -> None:
    """One worker slot: a gated run ends its job at the gate and the next run still completes."""
    gated = _queued(runs, inputs, "gated-app", approval=["architecture"])
    other = _queued(runs, inputs, "other-app")
    queue.enqueue(gated)
    queue.enqueue(other)
    _drain(db, runs)
    assert ("awaiting_approval", "architecture", "completed") == (
        runs.info(gated).status, runs.info(gated).pending_phase, runs.info(other).status)
    assert ["succeeded"] == [j["status"] for j in _jobs(db, gated)]
    queue.enqueue_decision(gated, decision=Decision.APPROVED, by="reviewer", comment="fine")
    _drain(db, runs)
    assert "completed" == runs.info(gated).status
    assert [("ktmb:run_application", "succeeded"), ("ktmb:continue_run", "succeeded")] == [
        (j["task_name"], j["status"]) for j in _jobs(db, gated)]
    assert [("architecture", "approved", "reviewer")] == [
        (a["phase"], a["decision"], a["decided_by"]) for a in runs.store.approvals(gated)]


def test_a_malformed_queued_decision_leaves_the_run_waiting(
        db: Database, runs: Runs, queue: RunQueue, inputs: LoadedInputs) -> None:
    """Edits naming an unknown finding fail the job, not the run."""
    gated = _queued(runs, inputs, "gated-app", approval=["architecture"])
    queue.enqueue(gated)
    _drain(db, runs)
    queue.enqueue_decision(gated, decision=Decision.APPROVED, by="reviewer",
                           edits={"findings": [{"id": "no-such-finding", "remove": True}]})
    _drain(db, runs)
    assert "awaiting_approval" == runs.info(gated).status
    assert "failed" == _jobs(db, gated)[-1]["status"]
    assert [] == runs.store.approvals(gated)


def test_enqueue_decision_refuses_a_run_that_is_not_waiting(
        runs: Runs, queue: RunQueue, inputs: LoadedInputs) -> None:
    """Only a run at a gate takes a decision."""
    run_id = _queued(runs, inputs, "plain-app")
    with pytest.raises(RunStateError, match="not waiting for approval"):
        queue.enqueue_decision(run_id, decision=Decision.APPROVED, by="reviewer")


# ---- stalled jobs ------------------------------------------------------------------------------
def _take_and_abandon(db: Database, run_id: str) -> None:
    """Fetch the run's job as a worker that then goes silent (heartbeat an hour old)."""

    async def take() -> None:
        app = make_app(db.url)
        async with app.open_async():
            worker_id = await app.job_manager.register_worker()
            job = await app.job_manager.fetch_job(queues=[QUEUE], worker_id=worker_id)
            assert job is not None
            assert run_id == job.task_kwargs["run_id"]

    asyncio.run(take())
    with db.connection() as conn:
        conn.execute("UPDATE procrastinate_workers "
                     "SET last_heartbeat = now() - interval '1 hour'")
    with db.connection() as conn:  # the dead worker had started the run
        conn.execute("UPDATE runs SET status = 'running' WHERE run_id = %s", (run_id,))


def _reap(db: Database, runs: Runs) -> int:
    async def reap() -> int:
        app = make_app(db.url)
        async with app.open_async():
            return await reap_stalled_jobs(app, runs, db.url, FAST)

    return asyncio.run(reap())


def test_stalled_job_is_requeued_and_resumed(db: Database, runs: Runs, queue: RunQueue,
                                             inputs: LoadedInputs) -> None:
    """A job whose worker stopped sending heartbeats is re-queued and completed by another."""
    run_id = _queued(runs, inputs, "stalled-app")
    queue.enqueue(run_id)
    _take_and_abandon(db, run_id)
    assert 1 == _reap(db, runs)
    info = runs.info(run_id)
    assert "queued" == info.status
    assert "attempt 1 of 3: the worker executing it stopped" in (info.error or "")
    _drain(db, runs)
    assert ("completed", None) == (runs.info(run_id).status, runs.info(run_id).error)
    assert [("succeeded", 2)] == [(j["status"], j["attempts"]) for j in _jobs(db, run_id)]


def test_stalled_job_at_its_last_attempt_fails_the_run(db: Database, runs: Runs,
                                                       queue: RunQueue,
                                                       inputs: LoadedInputs) -> None:
    """A worker dying on the last allowed attempt marks the run failed with the reason."""
    run_id = _queued(runs, inputs, "killer-app")
    queue.enqueue(run_id, max_attempts=1)
    _take_and_abandon(db, run_id)
    assert 1 == _reap(db, runs)
    info = runs.info(run_id)
    assert "failed" == info.status
    assert (info.error or "").startswith("failed after 1 attempt(s): the worker executing it "
                                         "stopped (killed or lost")
    assert ["failed"] == [j["status"] for j in _jobs(db, run_id)]


def test_a_late_heartbeat_of_a_live_executor_is_not_death(
        db: Database, runs: Runs, queue: RunQueue, inputs: LoadedInputs) -> None:
    """A stale heartbeat while the run lock is held (the executor lives) re-queues nothing."""
    run_id = _queued(runs, inputs, "slow-beat-app")
    queue.enqueue(run_id)
    _take_and_abandon(db, run_id)
    with runs._run_lock(run_id) as locked:  # the executing process still holds the run
        assert locked
        assert 0 == _reap(db, runs)
        assert (["doing"], "running") == ([j["status"] for j in _jobs(db, run_id)],
                                          runs.info(run_id).status)
    assert 1 == _reap(db, runs)  # once the lock is gone, the process is


def test_a_live_worker_is_not_reaped(db: Database, runs: Runs, queue: RunQueue,
                                     inputs: LoadedInputs) -> None:
    """Jobs of workers with a fresh heartbeat are left alone."""
    run_id = _queued(runs, inputs, "busy-app")
    queue.enqueue(run_id)

    async def take() -> None:
        app = make_app(db.url)
        async with app.open_async():
            worker_id = await app.job_manager.register_worker()
            await app.job_manager.fetch_job(queues=[QUEUE], worker_id=worker_id)

    asyncio.run(take())
    assert 0 == _reap(db, runs)
    assert ["doing"] == [j["status"] for j in _jobs(db, run_id)]


def test_schema_tables_are_in_the_ktmb_database(db: Database) -> None:
    """The queue shares the ktmb database (any worker reaching it can resume any run)."""
    ensure_queue_schema(db.url)
    with psycopg.connect(db.url) as conn:
        row = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE "
                           "'procrastinate_%'").fetchone()
    assert row is not None
    assert 4 == row[0]
