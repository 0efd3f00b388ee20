"""The batch job queue: procrastinate on the ktmb database, and the workers that execute runs.

``ktmb batch`` creates one run per application (status ``queued``: the inputs are written as the
run's first checkpoint, see ``Runs.start(..., execute=False)``) and enqueues a
``ktmb:run_application`` job for it. ``ktmb worker`` processes, on any machine that reaches the
database, fetch jobs and continue the run from its last checkpoint (``Runs.resume``), so any
worker can execute or resume any run; the manifests never need to be on the worker's disk.

Guarantees:

* **One executor per run.** Jobs carry ``lock=<run id>`` (procrastinate never runs two jobs with
  the same lock at once) and ``Runs`` holds a PostgreSQL advisory lock per run while executing.
* **Dead workers.** Workers send heartbeats (procrastinate 3.x ``procrastinate_workers``). Every
  worker also runs a reaper: under an advisory lock it asks procrastinate for stalled jobs
  (``JobManager.get_stalled_jobs``: ``doing`` jobs whose worker's heartbeat is older than
  ``stalled_after``) and retries them, so another worker resumes the run from its last
  checkpoint (``durability="sync"``: the finished nodes are not redone).
* **Approval holds no worker.** A job ends when its run reaches ``awaiting_approval``; the
  decision is applied by ``ktmb approve`` / the API, or enqueued with
  :meth:`RunQueue.enqueue_decision` (job ``ktmb:continue_run``).
* **Bounded retries.** A run that fails is retried until ``max_attempts`` attempts (default 3,
  carried by the job so every worker applies the same bound) and then marked ``failed`` with its
  error. A worker that dies counts as a failed attempt too, so an application that kills its
  worker (out of memory, say) is bounded as well.
* **Graceful stop.** SIGTERM/SIGINT: the worker stops fetching, asks each running graph to stop
  after its current node (LangGraph ``RunControl.request_drain``), marks those runs
  ``interrupted`` and re-queues them, then exits. A second signal exits at once (the runs are
  then recovered as stalled).

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

import asyncio
import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import procrastinate
import psycopg
import structlog
from langgraph.runtime import RunControl
from procrastinate import exceptions as pq_exceptions
from procrastinate import jobs as pq_jobs
from procrastinate import retry as pq_retry
from procrastinate import worker as pq_worker

from workflow.db import Database, advisory_lock
from workflow.domain.errors import (
    ConfigError,
    KtmbError,
    NotFoundError,
    RunStateError,
    StoreError,
    UserError,
    one_line,
)
from workflow.domain.named_queries import load_queries
from workflow.domain.run import Decision, RunStatus
from workflow.gates import PhaseEdits
from workflow.run_store import RunStore

__all__ = [
    "CONTINUE_TASK",
    "QUEUE",
    "RUN_TASK",
    "QueueOptions",
    "RunProgress",
    "RunQueue",
    "WorkerRuntime",
    "ensure_queue_schema",
    "make_app",
    "queue_options",
    "reap_stalled_jobs",
    "run_worker",
]

log = structlog.get_logger(__name__)

QUEUE = "ktmb-runs"
NAMESPACE = "ktmb"
RUN_TASK = f"{NAMESPACE}:run_application"
CONTINUE_TASK = f"{NAMESPACE}:continue_run"
#: Run statuses after which a ``run_application`` job has nothing left to do.
SETTLED = frozenset({RunStatus.COMPLETED, RunStatus.REJECTED, RunStatus.AWAITING_APPROVAL})

_Q = load_queries(Path(__file__).with_name("queue.sql"))
_SCHEMA_LOCK = 7_364_221_004  # advisory lock key: applying the procrastinate schema
_REAPER_LOCK = 7_364_221_005  # advisory lock key: one reaper at a time re-queues stalled jobs


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
class _Permanent(KtmbError):
    """The job cannot succeed by retrying."""


class _RunRetry(pq_retry.BaseRetryStrategy):
    """Retry a failed run until the job's ``max_attempts``, waiting ``retry_wait`` x attempt."""

    def get_retry_decision(self, *, exception: BaseException,
                           job: pq_jobs.Job) -> pq_retry.RetryDecision | None:
        if isinstance(exception, _Permanent | pq_exceptions.TaskNotFound):
            return None
        attempt = job.attempts + 1
        if attempt >= int(job.task_kwargs.get("max_attempts") or 1):  # type: ignore[arg-type]
            return None
        wait = float(job.task_kwargs.get("retry_wait") or 0) * attempt  # type: ignore[arg-type]
        return pq_retry.RetryDecision(retry_in={"seconds": round(wait)})


def run_application(context: procrastinate.JobContext, run_id: str, max_attempts: int = 3,
                    retry_wait: float = 5.0) -> str:
    """Execute or resume a run from its last checkpoint; returns where the run stands."""
    runtime: WorkerRuntime = context.additional_context["runtime"]
    return runtime.execute(run_id, attempt=context.job.attempts + 1, max_attempts=max_attempts,
                           retry_wait=retry_wait, job_id=context.job.id)


def continue_run(context: procrastinate.JobContext, run_id: str, decision: dict[str, Any],
                 max_attempts: int = 3, retry_wait: float = 5.0) -> str:
    """Apply an approval decision taken elsewhere and continue the run."""
    runtime: WorkerRuntime = context.additional_context["runtime"]
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


# ---- the worker -------------------------------------------------------------------------------
class WorkerRuntime:
    """What a worker process's jobs share: the runs, the app, and the drain controls."""

    def __init__(self, runs: Any, app: procrastinate.App, options: QueueOptions,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.runs = runs
        self.store: RunStore = runs.store
        self.app = app
        self.options = options
        self.loop = loop
        self.stopping: str | None = None
        self._controls: dict[str, RunControl] = {}
        self._lock = threading.Lock()

    # -- stopping --
    def stop(self, reason: str) -> None:
        """Ask every running graph to stop after its current node."""
        with self._lock:
            self.stopping = reason
            for control in self._controls.values():
                control.request_drain(reason)
            running = list(self._controls)
        log.info("worker_draining", reason=reason, runs=running)

    @contextmanager
    def _control(self, run_id: str) -> Iterator[RunControl]:
        control = RunControl()
        with self._lock:
            if self.stopping:
                control.request_drain(self.stopping)
            self._controls[run_id] = control
        try:
            yield control
        finally:
            with self._lock:
                self._controls.pop(run_id, None)

    # -- jobs --
    def execute(self, run_id: str, *, attempt: int, max_attempts: int, retry_wait: float,
                job_id: int | None = None) -> str:
        """Continue a run; raise to have procrastinate retry it (bounded by ``max_attempts``)."""
        with structlog.contextvars.bound_contextvars(run_id=run_id, job_id=job_id, attempt=attempt):
            try:
                info = self.store.get(run_id)
            except NotFoundError as exc:
                raise _Permanent(str(exc)) from exc
            if info.status in SETTLED:
                log.info("run_already_settled", status=info.status)
                return info.status
            log.info("run_attempt", max_attempts=max_attempts)
            try:
                with self._control(run_id) as control:
                    outcome = self.runs.resume(run_id, control=control)
            except RunStateError as exc:
                return self._refused(run_id, exc, attempt, max_attempts, retry_wait)
            except Exception as exc:
                self._failed(run_id, exc, attempt, max_attempts)
                raise
            if outcome.status is RunStatus.INTERRUPTED:
                self.requeue(run_id, max_attempts=max_attempts, retry_wait=retry_wait)
            log.info("run_job_done", status=outcome.status)
            return str(outcome.status)

    def decide(self, run_id: str, decision: dict[str, Any], *, max_attempts: int,
               retry_wait: float, job_id: int | None = None) -> str:
        """Apply a decision taken elsewhere and continue the run (``continue_run``)."""
        with structlog.contextvars.bound_contextvars(run_id=run_id, job_id=job_id):
            try:
                edits = (PhaseEdits.model_validate(decision["edits"])
                         if decision.get("edits") else None)
                with self._control(run_id) as control:
                    outcome = self.runs.decide(
                        run_id, decision=Decision(decision["decision"]), by=str(decision["by"]),
                        comment=str(decision.get("comment") or ""), edits=edits,
                        control=control)
            except (UserError, KeyError, ValueError) as exc:
                log.warning("decision_refused", error=one_line(exc))
                raise _Permanent(one_line(exc)) from exc
            except Exception as exc:
                # The decision is applied; the rest of the run is retried as a run job.
                message = one_line(exc)
                log.error("run_failed_after_decision", error=message)
                self.store.set_status(run_id, RunStatus.QUEUED, error=f"failed after the "
                                      f"decision: {message}; retrying")
                self.requeue(run_id, max_attempts=max_attempts, retry_wait=retry_wait,
                             delay=retry_wait)
                return "requeued"
            if outcome.status is RunStatus.INTERRUPTED:
                self.requeue(run_id, max_attempts=max_attempts, retry_wait=retry_wait)
            return str(outcome.status)

    def _refused(self, run_id: str, exc: RunStateError, attempt: int, max_attempts: int,
                 retry_wait: float) -> str:
        info = self.store.get(run_id)
        if info.status in SETTLED:  # e.g. resume found the run waiting at a gate
            log.info("run_already_settled", status=info.status)
            return info.status
        if not self.runs.state(run_id):  # nothing to resume: retrying cannot help
            self._failed(run_id, exc, attempt, attempt)
            raise _Permanent(str(exc)) from exc
        # Another process holds the run lock (``ktmb resume``, or a worker taken for dead):
        # look again later; the owner records the outcome, or leaves the run to resume.
        log.warning("run_busy_elsewhere", reason=str(exc))
        self.requeue(run_id, max_attempts=max_attempts, retry_wait=retry_wait,
                     delay=max(self.options.poll, retry_wait, 1.0))
        return "busy"

    def _failed(self, run_id: str, exc: BaseException, attempt: int, max_attempts: int) -> None:
        message = one_line(exc)
        if attempt < max_attempts and not isinstance(exc, _Permanent):
            log.warning("run_attempt_failed", error=message, max_attempts=max_attempts)
            self.store.set_status(run_id, RunStatus.QUEUED, error=f"attempt {attempt} of "
                                  f"{max_attempts} failed: {message}; retrying")
        else:
            log.error("run_failed_for_good", error=message, attempts=attempt)
            self.store.set_status(run_id, RunStatus.FAILED,
                                  error=f"failed after {attempt} attempt(s): {message}")

    def requeue(self, run_id: str, *, max_attempts: int, retry_wait: float,
                delay: float = 0.0) -> None:
        """Queue a fresh ``run_application`` job for the run (from a job's thread)."""
        async def defer() -> None:
            deferrer = self.app.configure_task(RUN_TASK, lock=run_id, queueing_lock=run_id,
                                               schedule_in={"seconds": round(delay)})
            with suppress(pq_exceptions.AlreadyEnqueued):
                await deferrer.defer_async(run_id=run_id, max_attempts=max_attempts,
                                           retry_wait=retry_wait)

        asyncio.run_coroutine_threadsafe(defer(), self.loop).result(timeout=60)
        log.info("run_requeued", delay=delay)


async def reap_stalled_jobs(app: procrastinate.App, runs: Any, url: str,
                            options: QueueOptions) -> int:
    """Re-queue the jobs of dead workers (or fail them at their last attempt); returns a count.

    A job is stalled when its worker sent no heartbeat for ``options.stalled_after`` seconds.
    A late heartbeat is not death: when the run's advisory lock is still held, the process
    executing the run is alive (a killed process's session, and its lock, are gone), and the job
    is left alone. Only one process reaps at a time (advisory lock); a re-queued run is resumed
    by the next free worker from its last checkpoint.
    """
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cur = await conn.execute(_Q["try_advisory_lock"], {"key": _REAPER_LOCK})
        row = await cur.fetchone()
        if not (row and row[0]):
            return 0
        try:
            stalled = await app.job_manager.get_stalled_jobs(
                queue=QUEUE, seconds_since_heartbeat=options.stalled_after)
            return sum([await _reap(app, runs, job, options) for job in stalled])
        finally:
            await conn.execute(_Q["advisory_unlock"], {"key": _REAPER_LOCK})


async def _reap(app: procrastinate.App, runs: Any, job: pq_jobs.Job,
                options: QueueOptions) -> int:
    store: RunStore = runs.store
    run_id = str(job.task_kwargs.get("run_id") or job.lock or "")
    attempt = job.attempts + 1
    max_attempts = int(job.task_kwargs.get("max_attempts") or 1)  # type: ignore[arg-type]
    why = (f"the worker executing it stopped (killed or lost: no heartbeat for "
           f"{options.stalled_after:g} s)")
    with structlog.contextvars.bound_contextvars(run_id=run_id, job_id=job.id, attempt=attempt):
        try:
            if await asyncio.to_thread(runs._locked_elsewhere, run_id):
                log.info("stalled_job_still_executing")  # late heartbeats, live executor
                return 0
            info = await asyncio.to_thread(store.get, run_id)
            if info.status in SETTLED or attempt < max_attempts:
                if info.status not in SETTLED:  # status first: no worker has it yet
                    await asyncio.to_thread(
                        store.set_status, run_id, RunStatus.QUEUED,
                        error=f"attempt {attempt} of {max_attempts}: {why}; re-queued")
                await app.job_manager.retry_job(job)
                log.warning("stalled_run_requeued", reason=why)
            else:
                await asyncio.to_thread(store.set_status, run_id, RunStatus.FAILED,
                                        error=f"failed after {attempt} attempt(s): {why}")
                await app.job_manager.finish_job(job, status=pq_jobs.Status.FAILED,
                                                 delete_job=False)
                log.error("stalled_run_failed", reason=why)
            return 1
        except pq_exceptions.ConnectorException as exc:  # finished meanwhile
            log.info("stalled_job_changed", error=one_line(exc, limit=200))
        except NotFoundError:
            log.warning("stalled_job_without_run")
            await app.job_manager.finish_job(job, status=pq_jobs.Status.FAILED,
                                             delete_job=False)
        return 0


async def _reaper(app: procrastinate.App, runs: Any, url: str, options: QueueOptions) -> None:
    interval = max(1.0, options.stalled_after / 3)
    while True:
        try:
            await reap_stalled_jobs(app, runs, url, options)
        except (psycopg.Error, pq_exceptions.ProcrastinateException, KtmbError) as exc:
            log.warning("reaper_failed", error=one_line(exc))
        await asyncio.sleep(interval)


class _ToStructlog(logging.Handler):
    """procrastinate's standard-library log records as structlog events (no tracebacks)."""

    def emit(self, record: logging.LogRecord) -> None:
        logger = structlog.get_logger(record.name)
        method = getattr(logger, record.levelname.lower(), logger.info)
        method(str(getattr(record, "action", "procrastinate")), message=record.getMessage())


def _bridge_procrastinate_logs() -> None:
    pq_logger = logging.getLogger("procrastinate")
    if not any(isinstance(h, _ToStructlog) for h in pq_logger.handlers):
        pq_logger.addHandler(_ToStructlog())
    pq_logger.propagate = False


def run_worker(db: Database, runs: Any, *, concurrency: int = 1, once: bool = False,
               options: QueueOptions | None = None, name: str | None = None) -> int:
    """Process jobs until SIGTERM/SIGINT (or, with ``once``, until the queue is empty).

    Returns:
        The process exit code: 0 after a graceful stop.
    """
    options = options or queue_options()
    ensure_queue_schema(db.url)
    _bridge_procrastinate_logs()
    worker_name = name or f"ktmb-{socket.gethostname()}-{os.getpid()}"
    return asyncio.run(_serve(db, runs, concurrency=concurrency, once=once, options=options,
                              name=worker_name))


async def _keep_beating(app: procrastinate.App, worker: pq_worker.Worker,
                        options: QueueOptions) -> None:
    """Heartbeats while a stopping worker drains its runs.

    procrastinate 3.10 cancels its heartbeat before waiting for running jobs (open upstream PR
    procrastinate#1585), so a drain longer than ``stalled_after`` would look like a dead worker
    and other workers would re-queue a run that is still executing.
    """
    while worker.worker_id is not None:
        with suppress(pq_exceptions.ProcrastinateException):
            await app.job_manager.update_heartbeat(worker.worker_id)
        await asyncio.sleep(options.heartbeat)


async def _serve(db: Database, runs: Any, *, concurrency: int, once: bool,
                 options: QueueOptions, name: str) -> int:
    loop = asyncio.get_running_loop()
    app = make_app(db.url, max_size=concurrency + 3)
    async with app.open_async():
        runtime = WorkerRuntime(runs, app, options, loop)
        if once:
            await reap_stalled_jobs(app, runtime.runs, db.url, options)
        worker = pq_worker.Worker(
            app=app, queues=[QUEUE], name=name, concurrency=concurrency, wait=not once,
            install_signal_handlers=False, listen_notify=True,
            fetch_job_polling_interval=options.poll,
            update_heartbeat_interval=options.heartbeat,
            stalled_worker_timeout=options.stalled_after,
            additional_context={"runtime": runtime})
        running = asyncio.create_task(worker.run(),  # type: ignore[no-untyped-call]
                                      name="procrastinate worker")
        side = [asyncio.create_task(_reaper(app, runtime.runs, db.url, options),
                                    name="stalled-job reaper")]

        def on_signal(signame: str) -> None:
            if runtime.stopping:
                log.warning("worker_forced_exit", signal=signame)
                os._exit(130)
            runtime.stop(signame)
            side[0].cancel()  # a stopping worker takes no other worker's runs
            side.append(asyncio.create_task(_keep_beating(app, worker, options),
                                            name="drain heartbeat"))
            worker.stop()  # type: ignore[no-untyped-call]  # no new jobs; runs drain

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal, sig.name)
        log.info("worker_started", worker=name, concurrency=concurrency, once=once)
        try:
            await running
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            for task in side:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        log.info("worker_stopped", worker=name, reason=runtime.stopping or "queue empty")
    return 0
