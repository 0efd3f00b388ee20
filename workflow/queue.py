"""The batch job queue: procrastinate on the ktmb database, its tasks, and enqueueing runs.

``ktmb batch`` creates one run per application (status ``queued``: the inputs are written as the
run's first checkpoint, see ``Runs.start(..., execute=False)``) and enqueues a
``ktmb:run_application`` job for it with :class:`RunQueue`. ``ktmb worker`` processes
(:mod:`workflow.worker`), on any machine that reaches the database, fetch jobs and continue the
run from its last checkpoint (``Runs.resume``), so any worker can execute or resume any run; the
manifests never need to be on the worker's disk.

What the queue guarantees (the workers' part, dead workers and graceful stops, is described in
:mod:`workflow.worker`):

* **One executor per run.** Jobs carry ``lock=<run id>`` (procrastinate never runs two jobs with
  the same lock at once) and ``Runs`` holds a PostgreSQL advisory lock per run while executing.
* **Approval holds no worker.** A job ends when its run reaches ``awaiting_approval``; the
  decision is applied by ``ktmb approve`` / the API, or enqueued with
  :meth:`RunQueue.enqueue_decision` (job ``ktmb:continue_run``).
* **Bounded retries.** A run that fails is retried until ``max_attempts`` attempts (default 3,
  carried by the job so every worker applies the same bound) and then marked ``failed`` with its
  error. A worker that dies counts as a failed attempt too, so an application that kills its
  worker (out of memory, say) is bounded as well.

procrastinate's schema is procrastinate's: on first use, when ``procrastinate_jobs`` is missing,
it is created with procrastinate's documented ``App.schema_manager.apply_schema()`` (what
``procrastinate schema --apply`` runs), under an advisory lock so that processes starting together
create it once; an existing schema is left as it is. Upgrading procrastinate to a version that
ships migrations is the operator's step, as procrastinate documents it: with every worker
stopped, apply in name order the files of ``procrastinate schema --migrations-path`` that the
previous version did not ship (README, "Review service, HTTP API and batch workers"). The SQL of
this module is in ``queue.sql``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import procrastinate
import psycopg
import structlog
from procrastinate import exceptions as pq_exceptions
from procrastinate import jobs as pq_jobs
from procrastinate import retry as pq_retry

from workflow.db import Database, advisory_lock
from workflow.domain.errors import ConfigError, KtmbError, RunStateError, StoreError, one_line
from workflow.domain.named_queries import load_queries
from workflow.domain.run import Decision, RunStatus
from workflow.run_store import RunStore

__all__ = [
    "CONTINUE_TASK",
    "QUEUE",
    "RUN_TASK",
    "JobRunner",
    "PermanentJobError",
    "QueueOptions",
    "RunProgress",
    "RunQueue",
    "ensure_queue_schema",
    "make_app",
    "queue_options",
]

log = structlog.get_logger(__name__)

QUEUE = "ktmb-runs"
NAMESPACE = "ktmb"
RUN_TASK = f"{NAMESPACE}:run_application"
CONTINUE_TASK = f"{NAMESPACE}:continue_run"

_Q = load_queries(Path(__file__).with_name("queue.sql"))
_SCHEMA_LOCK = 7_364_221_004  # advisory lock key: applying the procrastinate schema


# ---- options ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueOptions:
    """Queue and worker tuning (environment ``KTMB_QUEUE_*``; CLI options override).

    Attributes:
        max_attempts: attempts of a run before it is marked failed (``KTMB_QUEUE_MAX_ATTEMPTS``).
        retry_wait: seconds before the second attempt; grows linearly (``KTMB_QUEUE_RETRY_WAIT``).
        heartbeat: seconds between a worker's heartbeats (``KTMB_QUEUE_HEARTBEAT``).
        stalled_after: a job whose worker sent no heartbeat for this long is re-queued
            (``KTMB_QUEUE_STALLED_AFTER``); keep it at least three heartbeats.
        poll: seconds between polls for new jobs when no notification arrives
            (``KTMB_QUEUE_POLL``).
    """

    max_attempts: int = 3
    retry_wait: float = 5.0
    heartbeat: float = 10.0
    stalled_after: float = 30.0
    poll: float = 5.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"the maximum number of attempts must be at least 1, got "
                              f"{self.max_attempts}")
        if min(self.heartbeat, self.poll) <= 0 or self.retry_wait < 0:
            raise ConfigError("queue intervals must be positive")
        if self.stalled_after < 2 * self.heartbeat:
            raise ConfigError(f"stalled-after ({self.stalled_after:g} s) must be at least twice "
                              f"the heartbeat ({self.heartbeat:g} s), or live workers would be "
                              "taken for dead")


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None


def queue_options(**overrides: float | int | None) -> QueueOptions:
    """Options from the environment, with the given non-None values taking precedence."""
    values: dict[str, Any] = {
        "max_attempts": int(_env_number("KTMB_QUEUE_MAX_ATTEMPTS", 3)),
        "retry_wait": _env_number("KTMB_QUEUE_RETRY_WAIT", 5.0),
        "heartbeat": _env_number("KTMB_QUEUE_HEARTBEAT", 10.0),
        "stalled_after": _env_number("KTMB_QUEUE_STALLED_AFTER", 30.0),
        "poll": _env_number("KTMB_QUEUE_POLL", 5.0),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return QueueOptions(**values)


# ---- schema -------------------------------------------------------------------------------------
def _queue_schema_present(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(_Q["queue_schema_present"]).fetchone()
    return bool(row and row[0])


def _apply_procrastinate_schema(url: str) -> None:
    """Apply procrastinate's schema to an empty database with its own schema manager."""
    app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(
        conninfo=url, min_size=1, max_size=1))
    app.open()
    try:
        app.schema_manager.apply_schema()
    finally:
        app.close()


def ensure_queue_schema(url: str) -> None:
    """Create procrastinate's tables if they are missing, once, however many processes start.

    The schema is applied by procrastinate (``App.schema_manager.apply_schema()``, the
    ``procrastinate schema --apply`` of its documentation) under an advisory lock; a database
    that already has it is left untouched. Upgrades between procrastinate versions are applied
    by the operator from ``procrastinate schema --migrations-path`` (see the module docstring).
    A ``ktmb_queue_schema`` table left by earlier ktmb versions is neither read nor required.

    Raises:
        StoreError: the schema could not be applied.
    """
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            if _queue_schema_present(conn):
                return
            with advisory_lock(conn, _SCHEMA_LOCK, waiting_for="set up the job queue schema"):
                if _queue_schema_present(conn):  # created by the process that held the lock
                    return
                _apply_procrastinate_schema(url)
                log.info("queue_schema_created")
    except (psycopg.Error, pq_exceptions.ConnectorException) as exc:
        raise StoreError(f"cannot set up the job queue schema: "
                         f"{one_line(exc, with_type=False)}") from exc


# ---- the procrastinate app and its tasks -------------------------------------------------
class PermanentJobError(KtmbError):
    """The job cannot succeed by retrying."""


class _RunRetry(pq_retry.BaseRetryStrategy):
    """Retry a failed run until the job's ``max_attempts``, waiting ``retry_wait`` x attempt."""

    def get_retry_decision(self, *, exception: BaseException,
                           job: pq_jobs.Job) -> pq_retry.RetryDecision | None:
        if isinstance(exception, PermanentJobError | pq_exceptions.TaskNotFound):
            return None
        attempt = job.attempts + 1
        if attempt >= int(job.task_kwargs.get("max_attempts") or 1):  # type: ignore[arg-type]
            return None
        wait = float(job.task_kwargs.get("retry_wait") or 0) * attempt  # type: ignore[arg-type]
        return pq_retry.RetryDecision(retry_in={"seconds": round(wait)})


class JobRunner(Protocol):
    """What executes the jobs of a worker process (``workflow.worker.WorkerRuntime``)."""

    def execute(self, run_id: str, *, attempt: int, max_attempts: int, retry_wait: float,
                job_id: int | None = None) -> str:
        """Execute or resume a run; where it stands."""
        ...

    def decide(self, run_id: str, decision: dict[str, Any], *, max_attempts: int,
               retry_wait: float, job_id: int | None = None) -> str:
        """Apply a decision and continue the run; where it stands."""
        ...


def run_application(context: procrastinate.JobContext, run_id: str, max_attempts: int = 3,
                    retry_wait: float = 5.0) -> str:
    """Execute or resume a run from its last checkpoint; returns where the run stands."""
    runtime: JobRunner = context.additional_context["runtime"]
    return runtime.execute(run_id, attempt=context.job.attempts + 1, max_attempts=max_attempts,
                           retry_wait=retry_wait, job_id=context.job.id)


def continue_run(context: procrastinate.JobContext, run_id: str, decision: dict[str, Any],
                 max_attempts: int = 3, retry_wait: float = 5.0) -> str:
    """Apply an approval decision taken elsewhere and continue the run."""
    runtime: JobRunner = context.additional_context["runtime"]
    return runtime.decide(run_id, decision, max_attempts=max_attempts, retry_wait=retry_wait,
                          job_id=context.job.id)


def make_app(url: str, *, max_size: int = 4) -> procrastinate.App:
    """A procrastinate app on the database at ``url`` with the ktmb tasks."""
    connector = procrastinate.PsycopgConnector(conninfo=url, min_size=1,
                                               max_size=max(2, max_size))
    app = procrastinate.App(connector=connector)
    app.task(name=RUN_TASK, queue=QUEUE, pass_context=True, retry=_RunRetry())(run_application)
    app.task(name=CONTINUE_TASK, queue=QUEUE, pass_context=True)(continue_run)
    return app


# ---- enqueueing and watching (synchronous: CLI and API) -----------------------------------------
@dataclass(frozen=True)
class RunProgress:
    """A run of a batch and whether the queue still holds work for it."""

    run_id: str
    application: str
    status: str
    error: str | None
    pending: bool


class RunQueue:
    """Enqueue runs and follow them, from a synchronous process (``ktmb batch``, the API)."""

    def __init__(self, db: Database, options: QueueOptions | None = None) -> None:
        self.db = db
        self.options = options or queue_options()
        ensure_queue_schema(db.url)
        self.app = make_app(db.url)
        self.app.open(db.pool)  # the sync side shares the database's pool

    def close(self) -> None:
        """Release the app (the shared pool stays open)."""
        self.app.close()

    def __enter__(self) -> RunQueue:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def enqueue(self, run_id: str, *, max_attempts: int | None = None) -> int | None:
        """Queue a ``run_application`` job for a queued run; None if one is already waiting."""
        try:
            job_id: int = self.app.configure_task(
                RUN_TASK, lock=run_id, queueing_lock=run_id).defer(
                run_id=run_id, max_attempts=max_attempts or self.options.max_attempts,
                retry_wait=self.options.retry_wait)
        except pq_exceptions.AlreadyEnqueued:
            return None
        log.info("run_enqueued", run_id=run_id, job_id=job_id)
        return job_id

    def enqueue_decision(self, run_id: str, *, decision: Decision, by: str, comment: str = "",
                         edits: dict[str, Any] | None = None) -> int:
        """Queue an approval decision: a worker applies it and continues the run.

        The run must be waiting for approval; the decision is validated by the worker (as
        ``Runs.decide`` does), and a malformed one fails the job and leaves the run waiting.
        """
        info = RunStore(self.db).get(run_id)
        if info.status is not RunStatus.AWAITING_APPROVAL:
            raise RunStateError(f"run {run_id} is not waiting for approval "
                                f"(status: {info.status})")
        job_id: int = self.app.configure_task(CONTINUE_TASK, lock=run_id).defer(
            run_id=run_id, decision={"decision": decision.value, "by": by,
                                     "comment": comment, "edits": edits},
            max_attempts=self.options.max_attempts, retry_wait=self.options.retry_wait)
        return job_id

    def progress(self, run_ids: Sequence[str]) -> list[RunProgress]:
        """Where the given runs stand, and whether jobs are still waiting or running for them."""
        with self.db.connection() as conn:
            rows = conn.execute(_Q["run_progress"], {"queue": QUEUE,
                                                     "run_ids": list(run_ids)}).fetchall()
        return [RunProgress(**row) for row in rows]
