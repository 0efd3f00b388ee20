"""The batch workers: the ``ktmb worker`` processes that execute the runs of the job queue.

A worker (:func:`run_worker`) fetches the jobs of :mod:`workflow.queue` and continues each run
from its last checkpoint (``Runs.resume``), or applies an approval decision enqueued with
``RunQueue.enqueue_decision`` and continues the run (``Runs.decide``); :class:`WorkerRuntime` is
what the jobs of one worker process share. A failed attempt leaves the run ``queued`` with its
error while attempts remain, and marks it ``failed`` after the last one.

Guarantees:

* **Dead workers.** Workers send heartbeats (procrastinate 3.x ``procrastinate_workers``). Every
  worker also runs a reaper: under an advisory lock it asks procrastinate for stalled jobs
  (``JobManager.get_stalled_jobs``: ``doing`` jobs whose worker's heartbeat is older than
  ``stalled_after``) and retries them, so another worker resumes the run from its last
  checkpoint (``durability="sync"``: the finished nodes are not redone). A dead worker's job
  counts as a failed attempt, within the job's ``max_attempts``.
* **Graceful stop.** SIGTERM/SIGINT: the worker stops fetching, asks each running graph to stop
  after its current node (LangGraph ``RunControl.request_drain``), marks those runs
  ``interrupted`` and re-queues them, then exits. A second signal exits at once (the runs are
  then recovered as stalled).

The SQL of this module (the reaper's advisory lock) is in ``queue.sql``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import procrastinate
import psycopg
import structlog
from langgraph.runtime import RunControl
from procrastinate import exceptions as pq_exceptions
from procrastinate import jobs as pq_jobs
from procrastinate import worker as pq_worker

from workflow.db import Database
from workflow.domain.errors import KtmbError, NotFoundError, RunStateError, UserError, one_line
from workflow.domain.named_queries import load_queries
from workflow.domain.run import Decision, RunStatus
from workflow.gates import PhaseEdits
from workflow.queue import (
    QUEUE,
    RUN_TASK,
    PermanentJobError,
    QueueOptions,
    ensure_queue_schema,
    make_app,
    queue_options,
)
from workflow.run_store import RunStore

__all__ = [
    "WorkerRuntime",
    "reap_stalled_jobs",
    "run_worker",
]

log = structlog.get_logger(__name__)

#: Run statuses after which a ``run_application`` job has nothing left to do.
SETTLED = frozenset({RunStatus.COMPLETED, RunStatus.REJECTED, RunStatus.AWAITING_APPROVAL})

_Q = load_queries(Path(__file__).with_name("queue.sql"))
_REAPER_LOCK = 7_364_221_005  # advisory lock key: one reaper at a time re-queues stalled jobs


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
                raise PermanentJobError(str(exc)) from exc
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
                raise PermanentJobError(one_line(exc)) from exc
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
            raise PermanentJobError(str(exc)) from exc
        # Another process holds the run lock (``ktmb resume``, or a worker taken for dead):
        # look again later; the owner records the outcome, or leaves the run to resume.
        log.warning("run_busy_elsewhere", reason=str(exc))
        self.requeue(run_id, max_attempts=max_attempts, retry_wait=retry_wait,
                     delay=max(self.options.poll, retry_wait, 1.0))
        return "busy"

    def _failed(self, run_id: str, exc: BaseException, attempt: int, max_attempts: int) -> None:
        message = one_line(exc)
        if attempt < max_attempts and not isinstance(exc, PermanentJobError):
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
