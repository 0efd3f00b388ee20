"""``ktmb batch`` and ``ktmb worker``: many applications through the PostgreSQL job queue."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from typing import Annotated, Any

import structlog
import typer

from workflow.command_env import CommandEnv, handled, run_options
from workflow.console import default_app_name, say, warn
from workflow.domain.errors import KtmbError, NotFoundError, one_line
from workflow.domain.run import RunOptions, RunStatus

__all__ = ["batch_app"]

log = structlog.get_logger(__name__)

#: The commands of this module, added to the ``ktmb`` application as its own.
batch_app = typer.Typer()


def _enqueue_one(env: CommandEnv, runs: Any, queue: Any, path: str, policy: list[str],
                 options: RunOptions, max_attempts: int | None) -> dict[str, Any]:
    """Create the queued run of one application and its job; a failure is recorded, not raised.

    The application's own profile (``ktmb.yaml`` in its directory) gives its name, cloud and
    classification, and its suppressions file and annotations its repository decisions.
    """
    from workflow.app_options import application_name, profile_options
    from workflow.domain.inputs import load_inputs
    from workflow.runs import new_run_id

    name = default_app_name([path])
    run_id = new_run_id(name)
    try:
        inputs = load_inputs([path], settings=env.settings)
        name = application_name(None, inputs, name)
        run_id = new_run_id(name)
        runs.start(inputs, application=name, approval=policy,
                   options=profile_options(options, inputs), created_by=env.settings.user,
                   owner_groups=list(env.settings.groups), run_id=run_id, execute=False)
        queue.enqueue(run_id, max_attempts=max_attempts)
    except Exception as exc:
        error = one_line(exc)
        return {"application": name, "run_id": _record_failed(runs, run_id, name, policy,
                                                               options, env, error),
                "status": "failed", "summary": {}, "error": error}
    return {"application": name, "run_id": run_id, "status": "queued", "summary": {},
            "error": None}


def _record_failed(runs: Any, run_id: str, name: str, policy: list[str],
                   options: RunOptions, env: CommandEnv, error: str) -> str | None:
    """Keep an application that could not be queued as a failed run; its id, if recorded."""
    try:
        try:
            runs.store.get(run_id)
        except NotFoundError:
            runs.store.create(
                run_id=run_id, application=name, approval_policy=policy, options=options,
                inputs_digest="", inputs=[], owner_groups=list(env.settings.groups),
                created_by=env.settings.user, status=RunStatus.FAILED)
        runs.store.set_status(run_id, RunStatus.FAILED, error=error)
        return run_id
    except KtmbError as exc:
        log.warning("batch_failure_not_recorded", application=name, error=str(exc))
        return None


def _spawn_workers(count: int) -> list[Any]:
    """Start ``count`` local ``ktmb worker`` processes on the same database."""
    command = [sys.executable, "-m", "workflow", "--log-level", "ERROR", "worker",
               "--concurrency", "1"]
    return [subprocess.Popen(command, stdin=subprocess.DEVNULL,  # noqa: S603 - fixed argv
                             stdout=subprocess.DEVNULL) for _ in range(count)]


def _stop_workers(procs: list[Any], timeout: float = 60.0) -> None:
    """SIGTERM the local workers (they finish their current node), then wait; kill stragglers."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _print_status(result: dict[str, Any]) -> None:
    """One application of the batch as it settles, on standard error."""
    say(f"  {result['application']:<28} {result['status']}", event="batch_run_settled",
        application=result["application"], run_id=result["run_id"],
        status=str(result["status"]))


def _wait_for(queue: Any, results: list[dict[str, Any]], procs: list[Any]) -> None:
    """Follow the batch's runs until the queue holds no work for them."""
    waiting = {r["run_id"]: r for r in results if r["status"] == "queued"}
    while waiting:
        for item in queue.progress(list(waiting)):
            if item.pending:
                continue
            result = waiting.pop(item.run_id)
            result.update(status=item.status,
                          error=item.error if item.status is RunStatus.FAILED else None)
            _print_status(result)
        if waiting and all(proc.poll() is not None for proc in procs):
            codes = ", ".join(str(proc.returncode) for proc in procs)
            for result in waiting.values():
                result["error"] = (f"still queued: every local worker exited (exit codes "
                                   f"{codes}); run 'ktmb worker' to finish it")
            warn(f"every local worker exited (exit codes {codes})", event="workers_exited",
                 exit_codes=[proc.returncode for proc in procs])
            return
        if waiting:
            time.sleep(0.25)


@batch_app.command()
@handled
def batch(paths: Annotated[list[str], typer.Argument(help="One directory (or file) per "
                                                         "application; its name is the "
                                                         "application's.")],
          workers: Annotated[int, typer.Option(
              min=1, max=64, help="Local worker processes that drain the queue.")] = 2,
          approval: Annotated[str, typer.Option(
              help="Phases that need approval: none, each, changed, or PHASE[,PHASE...].")]
          = "none",
          llm: Annotated[str, typer.Option(help="Model provider: off, ollama or llamacpp.")]
          = "off",
          model: Annotated[str | None, typer.Option(help="Ollama model or GGUF file.")] = None,
          max_attempts: Annotated[int | None, typer.Option(
              min=1, max=100, help="Attempts per run before it is marked failed "
                                   "(default KTMB_QUEUE_MAX_ATTEMPTS or 3).")] = None,
          no_wait: Annotated[bool, typer.Option(
              "--no-wait", help="Only queue the runs; 'ktmb worker' processes execute them.")]
          = False,
          as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Queue one run per application and, unless --no-wait, drain the queue with local workers.

    Each application directory may hold its own profile (ktmb.yaml: name, cloud,
    classification, answers) and suppressions file. Runs go through the PostgreSQL job queue,
    so 'ktmb worker' processes on other machines that share the database help too. A failing
    application never stops the others; the exit code is 1 when any application failed.
    """
    from workflow.gates import parse_approval_policy

    policy = parse_approval_policy(approval)
    options = run_options(llm, model, None, None)
    env = CommandEnv()
    runs = env.runs()
    from workflow.queue import RunQueue, queue_options

    with RunQueue(runs.db, queue_options(max_attempts=max_attempts)) as queue:
        results = [_enqueue_one(env, runs, queue, p, policy, options, max_attempts)
                   for p in paths]
        for r in results:
            if r["status"] == "failed":
                _print_status(r)
        if not no_wait and any(r["status"] == "queued" for r in results):
            procs = _spawn_workers(workers)
            try:
                _wait_for(queue, results, procs)
            finally:
                _stop_workers(procs)
    for r in results:
        if r["status"] == "completed":
            r["summary"] = runs.threat_model(r["run_id"]).summary.by_severity
    results.sort(key=lambda r: r["application"])
    if as_json:
        say(json.dumps(results, indent=2), err=False)
    else:
        say(f"{'application':<28} {'status':<18} {'run id':<44} findings / error", err=False)
        for r in results:
            detail = r["error"] or ", ".join(f"{k} {v}" for k, v in r["summary"].items() if v)
            say(f"{r['application']:<28} {r['status']:<18} {r['run_id'] or '-':<44} "
                f"{detail}", err=False)
    failed = [r for r in results if r["status"] == "failed"]
    raise typer.Exit(1 if failed else 0)


@batch_app.command()
@handled
def worker(concurrency: Annotated[int, typer.Option(
               min=1, max=32, help="Runs executed at once by this process.")] = 1,
           once: Annotated[bool, typer.Option(
               "--once", help="Exit when no job is ready instead of waiting for more.")] = False,
           heartbeat: Annotated[float | None, typer.Option(
               help="Seconds between heartbeats (default KTMB_QUEUE_HEARTBEAT or 10).")] = None,
           stalled_after: Annotated[float | None, typer.Option(
               help="Re-queue the runs of a worker silent this long (default "
                    "KTMB_QUEUE_STALLED_AFTER or 30).")] = None,
           poll: Annotated[float | None, typer.Option(
               help="Seconds between queue polls (default KTMB_QUEUE_POLL or 5).")] = None,
           allow_remote_model: Annotated[bool, typer.Option(
               help="Allow a model host that is not loopback or private.")] = False) -> None:
    """Execute queued runs until SIGTERM; any number of workers may share the database.

    SIGTERM or Ctrl-C: running runs finish their current node, are marked interrupted and
    re-queued, then the worker exits 0. A second signal exits at once.
    """
    from workflow.db import open_database
    from workflow.queue import queue_options
    from workflow.run_setup import RunSetup
    from workflow.runs import Runs
    from workflow.worker import run_worker

    env = CommandEnv()
    options = queue_options(heartbeat=heartbeat, stalled_after=stalled_after, poll=poll)
    db = open_database(env.settings, max_size=concurrency + 4)
    runs = Runs(db, RunSetup(env.settings, db, allow_remote_model=allow_remote_model))
    say(f"ktmb worker: executing queued runs (concurrency {concurrency}"
        f"{', until the queue is empty' if once else ''}); stop with SIGTERM or Ctrl-C",
        event="worker_started", concurrency=concurrency, once=once)
    raise typer.Exit(run_worker(db, runs, concurrency=concurrency, once=once, options=options))
