"""The ``ktmb`` command line.

Exit codes: 0 completed, 1 internal error, 2 bad input or usage, 3 awaiting approval,
4 rejected (and 5 for ``--fail-on`` when findings at or above that severity exist).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import structlog
import typer

from workflow import __version__
from workflow.console import (
    EXIT_CODES_HELP,
    OPTION_HELP,
    at_or_above,
    check_fail_on,
    check_format,
    default_app_name,
    print_summary,
    render,
    report,
    say,
    write_file,
    write_output,
)
from workflow.domain.errors import ConfigError, KtmbError, one_line
from workflow.domain.run import Decision, LlmOptions, LlmProvider, RunOptions, RunStatus
from workflow.domain.settings import Settings, load_settings
from workflow.domain.threat_model import PHASES, Phase, ThreatModel
from workflow.kb_cli import kb_app
from workflow.log import configure_logging

__all__ = ["app", "main"]

app = typer.Typer(
    name="ktmb", add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Kubernetes Threat Model Builder: offline, phase-gated threat models from manifests.\n\n"
         + EXIT_CODES_HELP,
    epilog=EXIT_CODES_HELP)

STATUS_EXIT = {RunStatus.COMPLETED: 0, RunStatus.AWAITING_APPROVAL: 3, RunStatus.REJECTED: 4,
               RunStatus.INTERRUPTED: 1, RunStatus.FAILED: 1, RunStatus.QUEUED: 0,
               RunStatus.RUNNING: 0}

P = ParamSpec("P")
R = TypeVar("R")
log = structlog.get_logger(__name__)


def handled(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn errors into one line on standard error and the documented exit code."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except (Exception, KeyboardInterrupt) as exc:
            raise typer.Exit(report(exc)) from None

    return wrapper


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"ktmb {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    log_json: Annotated[bool, typer.Option("--log-json", help="Structured JSON logs.")] = False,
    log_level: Annotated[str, typer.Option(help="Lowest log level shown.")] = "WARNING",
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Kubernetes Threat Model Builder."""
    _OUTPUT["progress"] = not log_json
    configure_logging(json_logs=log_json,
                      level="INFO" if log_json and log_level == "WARNING" else log_level)


# ---- shared plumbing -----------------------------------------------------------------------
#: Terminal progress is off when logs are JSON (both go to standard error).
_OUTPUT: dict[str, bool] = {"progress": True}


class _Env:
    """Settings, database and runs, opened lazily once per command."""

    def __init__(self) -> None:
        self.settings: Settings = load_settings()
        self._runs: Any = None

    def runs(self, *, progress: bool = False, allow_remote_model: bool = False) -> Any:
        from workflow.db import open_database
        from workflow.run_setup import RunSetup
        from workflow.runs import Runs

        if self._runs is None:
            db = open_database(self.settings)
            show = progress and _OUTPUT["progress"]
            setup = RunSetup(self.settings, db, progress=_progress if show else None,
                             allow_remote_model=allow_remote_model)
            self._runs = Runs(db, setup)
        return self._runs


def _progress(phase: Phase, event: str, details: dict[str, Any]) -> None:
    if event == "started":
        typer.echo(f"  {phase.value:<12} ...", err=True, nl=False)
    elif event == "finished":
        status = details.get("status", "completed")
        mark = "" if status == "completed" else f" [{status}]"
        typer.echo(f" {details.get('findings', 0)} findings{mark}", err=True)


def _report(outcome: Any, runs: Any, *, out: Path | None = None, quiet: bool = False,
            fail_on: str | None = None) -> None:
    """Print where a run stands, show a pending phase, write --out, exit with its code."""
    status = outcome.status
    if status is RunStatus.AWAITING_APPROVAL:
        pending = runs.pending(outcome.run_id) or {}
        typer.echo(f"run {outcome.run_id} is waiting for approval of the "
                   f"{outcome.pending_phase} phase", err=True)
        _print_findings(pending.get("findings", []))
        typer.echo(f"  approve: ktmb approve {outcome.run_id} [--comment TEXT] [--edits FILE]\n"
                   f"  reject:  ktmb reject {outcome.run_id} --reason TEXT", err=True)
    elif status is RunStatus.REJECTED:
        typer.echo(f"run {outcome.run_id} was rejected at the {outcome.pending_phase} phase; "
                   f"redo it with: ktmb rerun {outcome.run_id} --from {outcome.pending_phase}",
                   err=True)
    elif status is RunStatus.COMPLETED:
        model: ThreatModel = outcome.model or runs.threat_model(outcome.run_id)
        if not quiet:
            print_summary(model)
        if out is not None:
            write_file(out, outcome.model_json or model.model_dump_json(indent=2))
        if fail_on is not None and at_or_above(model, fail_on):
            typer.echo(f"findings at or above {fail_on}: failing (--fail-on)", err=True)
            raise typer.Exit(5)
    elif status is RunStatus.INTERRUPTED:
        typer.echo(f"run {outcome.run_id} stopped; continue with: ktmb resume {outcome.run_id}",
                   err=True)
    raise typer.Exit(STATUS_EXIT.get(status, 1))


def _print_findings(findings: list[dict[str, Any]]) -> None:
    if not findings:
        typer.echo("  (no findings in this phase)", err=True)
    for f in findings:
        typer.echo(f"  [{f.get('severity', '?'):>8}] {f.get('id')}\n"
                   f"             {f.get('title')}", err=True)


def _phase(value: str) -> Phase:
    try:
        return Phase(value)
    except ValueError:
        raise ConfigError(f"unknown phase {value!r}; phases: "
                          f"{', '.join(p.value for p in PHASES)}") from None


def _run_options(llm: str, model: str | None, cloud: str | None,
                 classification: str | None) -> RunOptions:
    try:
        provider = LlmProvider(llm)
    except ValueError:
        raise ConfigError(f"--llm must be one of {', '.join(LlmProvider)}, got {llm!r}") from None
    return RunOptions(llm=LlmOptions(provider=provider, model=model), cloud=cloud,
                      classification=classification)


# ---- commands ----------------------------------------------------------------------------------
# The options ``run`` and ``scan`` share (one application's inputs, and what to do with them).
PathsArg = Annotated[list[str], typer.Argument(help=OPTION_HELP["paths"])]
AppOpt = Annotated[str | None, typer.Option("--app", help=OPTION_HELP["app"])]
ArchitectureOpt = Annotated[list[Path] | None, typer.Option(help=OPTION_HELP["architecture"])]
CloudOpt = Annotated[str | None, typer.Option(help=OPTION_HELP["cloud"])]
ClassificationOpt = Annotated[str | None, typer.Option(help=OPTION_HELP["classification"])]
FailOnOpt = Annotated[str | None, typer.Option(help=OPTION_HELP["fail_on"])]


@app.command()
@handled
def run(
    paths: PathsArg,
    app_name: AppOpt = None,
    architecture: ArchitectureOpt = None,
    approval: Annotated[str, typer.Option(
        help="Phases that need approval: none, each, or PHASE[,PHASE...].")] = "none",
    llm: Annotated[str, typer.Option(help="Model provider: off, ollama or llamacpp.")] = "off",
    model: Annotated[str | None, typer.Option(help="Ollama model name or GGUF file.")] = None,
    allow_remote_model: Annotated[bool, typer.Option(
        help="Allow a model host that is not loopback or private.")] = False,
    cloud: CloudOpt = None,
    classification: ClassificationOpt = None,
    out: Annotated[Path | None, typer.Option(help="Write the threat-model JSON here.")] = None,
    fail_on: FailOnOpt = None,
) -> None:
    """Build the threat model of one application; prints the run id."""
    check_fail_on(fail_on)
    from workflow.gates import parse_approval_policy

    env = _Env()
    policy = parse_approval_policy(approval)
    options = _run_options(llm, model, cloud, classification)
    from workflow.domain.inputs import load_inputs

    inputs = load_inputs(paths, settings=env.settings, architecture=architecture or [])
    for warning in inputs.warnings:
        typer.echo(f"ktmb: warning: {warning}", err=True)
    name = app_name or default_app_name(paths)
    runs = env.runs(progress=True, allow_remote_model=allow_remote_model)
    runs.services.model_client(options.llm.provider, model)  # fail fast on a bad model
    from workflow.runs import new_run_id

    run_id = new_run_id(name)
    typer.echo(run_id)
    typer.echo(f"run {run_id}: {name}, {len(inputs.resources)} objects", err=True)
    outcome = runs.start(inputs, application=name, approval=policy, options=options,
                         created_by=env.settings.user, owner_groups=list(env.settings.groups),
                         run_id=run_id)
    _report(outcome, runs, out=out, fail_on=fail_on)


@app.command(epilog=EXIT_CODES_HELP)
@handled
def scan(
    paths: PathsArg,
    app_name: AppOpt = None,
    architecture: ArchitectureOpt = None,
    cloud: CloudOpt = None,
    classification: ClassificationOpt = None,
    fmt: Annotated[str, typer.Option(
        "--format", help="json, sarif, markdown, html, mermaid or otm.")] = "json",
    out: Annotated[Path | None, typer.Option(
        help="Write the threat model here instead of standard output.")] = None,
    fail_on: FailOnOpt = None,
) -> None:
    """Rules and reviewer only, in one process: no database, model, gates or run history.

    Same findings and scores as 'ktmb run --llm off', without knowledge-base citations.

    For CI gates (--fail-on, --format sarif), pre-commit hooks and quick checks.
    """
    check_fail_on(fail_on)  # options are checked before anything is read
    check_format(fmt)
    from workflow.domain.inputs import load_inputs
    from workflow.scan import scan as scan_inputs

    inputs = load_inputs(paths, settings=load_settings(), architecture=architecture or [])
    for warning in inputs.warnings:
        say(f"ktmb: warning: {warning}")
    model = scan_inputs(inputs, application=app_name or default_app_name(paths),
                        options=RunOptions(classification=classification, cloud=cloud))
    write_output(render(model, fmt), out)
    print_summary(model)
    if fail_on is not None and at_or_above(model, fail_on):
        say(f"findings at or above {fail_on}: failing (--fail-on)")
        raise typer.Exit(5)


@app.command()
@handled
def status(run_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show where a run stands, phase by phase."""
    runs = _Env().runs()
    info = runs.info(run_id)
    state = runs.state(run_id) or {}
    phases = state.get("phases") or {}
    data = {
        "run_id": info.run_id, "application": info.application, "status": info.status,
        "pending_phase": info.pending_phase, "current_phase": info.current_phase,
        "error": info.error, "created_at": info.created_at.isoformat(),
        "updated_at": info.updated_at.isoformat(),
        "phases": {p.value: {"status": (phases.get(p.value) or {}).get("status", "pending"),
                             "findings": (phases.get(p.value) or {}).get("findings", 0)}
                   for p in PHASES}}
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        typer.echo(f"{info.run_id}  {info.application}  {info.status}"
                   + (f" ({info.pending_phase})" if info.pending_phase else ""))
        for name, rec in data["phases"].items():
            typer.echo(f"  {name:<12} {rec['status']:<18} {rec['findings']} findings")
        if info.error:
            typer.echo(f"  error: {info.error}")
    raise typer.Exit(0)


@app.command("runs")
@handled
def list_runs(app_name: Annotated[str | None, typer.Option("--app")] = None,
              as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List runs, newest first."""
    items = _Env().runs().store.list_runs(application=app_name)
    if as_json:
        typer.echo(json.dumps([i.model_dump(mode="json", exclude={"inputs"}) for i in items],
                              indent=2))
        return
    for i in items:
        typer.echo(f"{i.run_id}  {i.application:<24} {i.status:<18} "
                   f"{i.created_at:%Y-%m-%d %H:%M}")


@app.command()
@handled
def approve(run_id: str,
            comment: Annotated[str, typer.Option(help="Why it is approved.")] = "",
            edits: Annotated[Path | None, typer.Option(
                help="YAML/JSON edits: remove findings, change severity or status, add notes."
            )] = None,
            by: Annotated[str | None, typer.Option(help="Reviewer name.")] = None) -> None:
    """Approve the pending phase (optionally with edits) and continue the run."""
    env = _Env()
    from workflow.gates import load_edits

    parsed = load_edits(edits) if edits is not None else None
    runs = env.runs(progress=True)
    outcome = runs.decide(run_id, decision=Decision.APPROVED, by=by or env.settings.user,
                          comment=comment, edits=parsed)
    _report(outcome, runs)


@app.command()
@handled
def reject(run_id: str,
           reason: Annotated[str, typer.Option(help="Why; given to the phase on rerun.")],
           by: Annotated[str | None, typer.Option(help="Reviewer name.")] = None) -> None:
    """Reject the pending phase: the run stops as rejected."""
    if not reason.strip():
        raise ConfigError("--reason must not be empty")
    env = _Env()
    runs = env.runs(progress=True)
    outcome = runs.decide(run_id, decision=Decision.REJECTED, by=by or env.settings.user,
                          comment=reason)
    _report(outcome, runs)


@app.command()
@handled
def resume(run_id: str) -> None:
    """Continue a stopped run from its last finished node."""
    runs = _Env().runs(progress=True)
    _report(runs.resume(run_id), runs)


@app.command()
@handled
def rerun(run_id: str,
          from_phase: Annotated[str, typer.Option("--from", help="The phase to redo.")],
          guidance: Annotated[str | None, typer.Option(
              help="Guidance for the phase (default: the rejection reason).")] = None) -> None:
    """Redo a phase and everything after it."""
    runs = _Env().runs(progress=True)
    _report(runs.rerun(run_id, _phase(from_phase), guidance=guidance), runs)


@app.command()
@handled
def show(run_id: str,
         fmt: Annotated[str, typer.Option("--format", help="json, sarif, markdown, html, "
                                                           "mermaid or otm.")] = "json",
         out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
         ) -> None:
    """Print a run's threat model (partial and marked so when unfinished)."""
    model = _Env().runs().threat_model(run_id)
    write_output(render(model, fmt), out)


app.command("export", help="Export a run's threat model (same as show).")(show)


@app.command()
@handled
def diff(run_a: Annotated[str, typer.Argument(
             help="The older run: a run id or a threat-model JSON file.")],
         run_b: Annotated[str, typer.Argument(
             help="The newer run: a run id or a threat-model JSON file.")],
         as_json: Annotated[bool, typer.Option("--json")] = False,
         ) -> None:
    """Compare two threat models: new, changed, unchanged and resolved findings.

    Each side is a stored run's id, or a threat-model JSON file (from --out of run or scan).
    """
    from workflow.diff import diff_models, render_json, render_text

    env = _Env()
    result = diff_models(_model_of(run_a, env), _model_of(run_b, env))
    typer.echo(render_json(result) if as_json else render_text(result))


def _model_of(ref: str, env: _Env) -> ThreatModel:
    """The threat model of a run id, or of a JSON file when ``ref`` names one."""
    path = Path(ref)
    if not path.is_file():
        return env.runs().threat_model(ref)  # type: ignore[no-any-return]
    from pydantic import ValidationError

    try:
        return ThreatModel.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "document"
        raise ConfigError(f"{path}: not a ktmb threat model ({where}: {error['msg']})") from None


@app.command()
@handled
def serve(host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8080) -> None:
    """Serve the HTTP API (/openapi.json) and the web UI (/ui/) for reviewers.

    Authentication: KTMB_API_TOKENS_FILE and/or KTMB_TRUSTED_HEADER_USER (see workflow.api).
    """
    import uvicorn

    from workflow.api import create_app

    application = create_app(_Env().settings)
    typer.echo(f"ktmb serve: http://{host}:{port}/ui/ (API schema: /openapi.json)", err=True)
    uvicorn.run(application, host=host, port=port, access_log=False, server_header=False,
                proxy_headers=False, log_level="warning")


# ---- batch and worker --------------------------------------------------------------------------
def _error_text(exc: BaseException) -> str:
    if isinstance(exc, KtmbError):
        return str(exc)
    return one_line(exc)


def _enqueue_one(env: _Env, runs: Any, queue: Any, path: str, policy: list[str],
                 options: RunOptions, max_attempts: int | None) -> dict[str, Any]:
    """Create the queued run of one application and its job; a failure is recorded, not raised."""
    from workflow.domain.inputs import load_inputs
    from workflow.runs import new_run_id

    name = default_app_name([path])
    run_id = new_run_id(name)
    try:
        inputs = load_inputs([path], settings=env.settings)
        runs.start(inputs, application=name, approval=policy, options=options,
                   created_by=env.settings.user, owner_groups=list(env.settings.groups),
                   run_id=run_id, execute=False)
        queue.enqueue(run_id, max_attempts=max_attempts)
    except Exception as exc:
        error = _error_text(exc)
        return {"application": name, "run_id": _record_failed(runs, run_id, name, policy,
                                                               options, env, error),
                "status": "failed", "summary": {}, "error": error}
    return {"application": name, "run_id": run_id, "status": "queued", "summary": {},
            "error": None}


def _record_failed(runs: Any, run_id: str, name: str, policy: list[str],
                   options: RunOptions, env: _Env, error: str) -> str | None:
    """Keep an application that could not be queued as a failed run; its id, if recorded."""
    from workflow.domain.errors import NotFoundError

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
    import subprocess

    command = [sys.executable, "-m", "workflow", "--log-level", "ERROR", "worker",
               "--concurrency", "1"]
    return [subprocess.Popen(command, stdin=subprocess.DEVNULL,  # noqa: S603 - fixed argv
                             stdout=subprocess.DEVNULL) for _ in range(count)]


def _stop_workers(procs: list[Any], timeout: float = 60.0) -> None:
    """SIGTERM the local workers (they finish their current node), then wait; kill stragglers."""
    import signal
    import subprocess
    import time

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


def _wait_for(queue: Any, results: list[dict[str, Any]], procs: list[Any]) -> None:
    """Follow the batch's runs until the queue holds no work for them."""
    import time

    waiting = {r["run_id"]: r for r in results if r["status"] == "queued"}
    while waiting:
        for item in queue.progress(list(waiting)):
            if item.pending:
                continue
            result = waiting.pop(item.run_id)
            result.update(status=item.status,
                          error=item.error if item.status is RunStatus.FAILED else None)
            typer.echo(f"  {result['application']:<28} {result['status']}", err=True)
        if waiting and all(proc.poll() is not None for proc in procs):
            codes = ", ".join(str(proc.returncode) for proc in procs)
            for result in waiting.values():
                result["error"] = (f"still queued: every local worker exited (exit codes "
                                   f"{codes}); run 'ktmb worker' to finish it")
            typer.echo(f"ktmb: warning: every local worker exited (exit codes {codes})",
                       err=True)
            return
        if waiting:
            time.sleep(0.25)


@app.command()
@handled
def batch(paths: Annotated[list[str], typer.Argument(help="One directory (or file) per "
                                                         "application; its name is the "
                                                         "application's.")],
          workers: Annotated[int, typer.Option(
              min=1, max=64, help="Local worker processes that drain the queue.")] = 2,
          approval: Annotated[str, typer.Option(
              help="Phases that need approval: none, each, or PHASE[,PHASE...].")] = "none",
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

    Runs go through the PostgreSQL job queue, so 'ktmb worker' processes on other machines that
    share the database help too. A failing application never stops the others; the exit code
    is 1 when any application failed.
    """
    from workflow.gates import parse_approval_policy

    policy = parse_approval_policy(approval)
    options = _run_options(llm, model, None, None)
    env = _Env()
    runs = env.runs()
    from workflow.queue import RunQueue, queue_options

    with RunQueue(runs.db, queue_options(max_attempts=max_attempts)) as queue:
        results = [_enqueue_one(env, runs, queue, p, policy, options, max_attempts)
                   for p in paths]
        for r in results:
            if r["status"] == "failed":
                typer.echo(f"  {r['application']:<28} failed", err=True)
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
        typer.echo(json.dumps(results, indent=2))
    else:
        typer.echo(f"{'application':<28} {'status':<18} {'run id':<44} findings / error")
        for r in results:
            detail = r["error"] or ", ".join(f"{k} {v}" for k, v in r["summary"].items() if v)
            typer.echo(f"{r['application']:<28} {r['status']:<18} {r['run_id'] or '-':<44} "
                       f"{detail}")
    failed = [r for r in results if r["status"] == "failed"]
    raise typer.Exit(1 if failed else 0)


@app.command()
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

    env = _Env()
    options = queue_options(heartbeat=heartbeat, stalled_after=stalled_after, poll=poll)
    db = open_database(env.settings, max_size=concurrency + 4)
    runs = Runs(db, RunSetup(env.settings, db, allow_remote_model=allow_remote_model))
    typer.echo(f"ktmb worker: executing queued runs (concurrency {concurrency}"
               f"{', until the queue is empty' if once else ''}); stop with SIGTERM or Ctrl-C",
               err=True)
    raise typer.Exit(run_worker(db, runs, concurrency=concurrency, once=once, options=options))


@app.command()
@handled
def doctor(llm: Annotated[str, typer.Option(help="Provider to check: ollama or llamacpp.")]
           = "ollama",
           model: Annotated[str | None, typer.Option(help="Model to check.")] = None,
           allow_remote_model: Annotated[bool, typer.Option()] = False) -> None:
    """Report what is available (model host, model, extras, database) and how to fix gaps."""
    from workflow.doctor import doctor_report

    checks, ok = doctor_report(provider=llm, model=model, allow_remote=allow_remote_model,
                               settings=load_settings())
    for check in checks:
        mark = "ok  " if check.ok else ("FAIL" if check.required else "warn")
        typer.echo(f"[{mark}] {check.name}: {check.detail}")
        if not check.ok and check.fix:
            typer.echo(f"       fix: {check.fix}")
    raise typer.Exit(0 if ok else 1)


app.add_typer(kb_app, name="kb")


def main() -> None:
    """Console entry point: every error is one line on standard error and an exit code."""
    try:
        app()
    except Exception as exc:
        sys.exit(report(exc))
