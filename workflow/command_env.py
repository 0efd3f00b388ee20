"""What every ``ktmb`` command shares: the error handler, and the runs it opens and reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from workflow.console import at_or_above, print_summary, report, write_file
from workflow.domain.errors import ConfigError
from workflow.domain.run import LlmOptions, LlmProvider, RunOptions, RunStatus
from workflow.domain.settings import Settings, load_settings
from workflow.domain.threat_model import PHASES, Phase, ThreatModel, read_model

if TYPE_CHECKING:  # the graph and the database load only in the commands that run
    from workflow.run_setup import RunSetup
    from workflow.runs import Runs

__all__ = ["STATUS_EXIT", "CommandEnv", "handled", "model_of", "phase_of", "print_findings",
           "print_paths", "print_progress", "report_outcome", "run_options"]

#: The exit code of each run status (see the README's table).
STATUS_EXIT = {RunStatus.COMPLETED: 0, RunStatus.AWAITING_APPROVAL: 3, RunStatus.REJECTED: 4,
               RunStatus.INTERRUPTED: 1, RunStatus.FAILED: 1, RunStatus.QUEUED: 0,
               RunStatus.RUNNING: 0}

P = ParamSpec("P")
R = TypeVar("R")


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


class CommandEnv:
    """Settings, database and runs, opened lazily once per command.

    Terminal progress is shown unless the logs are JSON (both go to standard error): the
    ``ktmb`` callback says which in the context (``ctx.obj``) a command passes in.
    """

    def __init__(self, ctx: typer.Context | None = None) -> None:
        obj = ctx.obj if ctx is not None else None
        self.progress = bool(obj.get("progress", True)) if isinstance(obj, dict) else False
        self.settings: Settings = load_settings()
        self._runs: Runs | None = None
        self._setup: RunSetup | None = None

    def runs(self, *, progress: bool = False, allow_remote_model: bool = False) -> Runs:
        """The runs on the configured database (opened on first use)."""
        from workflow.db import open_database  # the database and the graph load only here
        from workflow.run_setup import RunSetup
        from workflow.runs import Runs

        if self._runs is None:
            db = open_database(self.settings)
            show = progress and self.progress
            self._setup = RunSetup(self.settings, db,
                                   progress=print_progress if show else None,
                                   allow_remote_model=allow_remote_model)
            self._runs = Runs(db, self._setup)
        return self._runs

    def model_client(self, provider: LlmProvider, model: str | None) -> None:
        """Check that the model a run asks for can be used, before the run starts.

        Raises:
            ConfigError: the provider or model cannot be used.
        """
        self.runs()
        if self._setup is not None:
            self._setup.model_client(provider, model)


def print_progress(phase: Phase, event: str, details: dict[str, Any]) -> None:
    """A phase starting and finishing, on standard error."""
    if event == "started":
        typer.echo(f"  {phase.value:<12} ...", err=True, nl=False)
    elif event == "finished":
        status = details.get("status", "completed")
        mark = "" if status == "completed" else f" [{status}]"
        typer.echo(f" {details.get('findings', 0)} findings{mark}", err=True)


def report_outcome(outcome: Any, runs: Any, *, out: Path | None = None, quiet: bool = False,
            fail_on: str | None = None) -> None:
    """Print where a run stands, show a pending phase, write --out, exit with its code."""
    status = outcome.status
    if status is RunStatus.AWAITING_APPROVAL:
        pending = runs.pending(outcome.run_id) or {}
        typer.echo(f"run {outcome.run_id} is waiting for approval of the "
                   f"{outcome.pending_phase} phase", err=True)
        print_findings(pending.get("findings", []))
        print_paths(pending.get("attack_paths", []))
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


def print_findings(findings: list[dict[str, Any]]) -> None:
    """A pending phase's findings, one per two lines."""
    if not findings:
        typer.echo("  (no findings in this phase)", err=True)
    for f in findings:
        typer.echo(f"  [{f.get('severity', '?'):>8}] {f.get('id')}\n"
                   f"             {f.get('title')}", err=True)


def phase_of(value: str) -> Phase:
    """The phase a ``--from`` names."""
    try:
        return Phase(value)
    except ValueError:
        raise ConfigError(f"unknown phase {value!r}; phases: "
                          f"{', '.join(p.value for p in PHASES)}") from None


def run_options(llm: str, model: str | None, cloud: str | None,
                 classification: str | None) -> RunOptions:
    """The run options of the ``--llm``, ``--model``, ``--cloud``, ``--classification``."""
    try:
        provider = LlmProvider(llm)
    except ValueError:
        raise ConfigError(f"--llm must be one of {', '.join(LlmProvider)}, got {llm!r}") from None
    return RunOptions(llm=LlmOptions(provider=provider, model=model), cloud=cloud,
                      classification=classification)


def model_of(ref: str, env: CommandEnv) -> ThreatModel:
    """The threat model of a run id, or of a JSON file when ``ref`` names one."""
    path = Path(ref)
    if not path.is_file():
        return env.runs().threat_model(ref)
    from pydantic import ValidationError

    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError:
        raise ConfigError(f"{path}: not a ktmb threat model (not JSON)") from None
    try:
        return read_model(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "document"
        raise ConfigError(f"{path}: not a ktmb threat model ({where}: {error['msg']})") from None


def print_paths(paths: list[dict[str, Any]], *, limit: int = 10) -> None:
    """A pending risk review's attack paths, one line each (the most severe first)."""
    if not paths:
        return
    typer.echo(f"  attack paths ({len(paths)}):", err=True)
    for path in paths[:limit]:
        chain = " -> ".join([str(path.get("origin")),
                             *(str(h.get("to")) for h in path.get("hops") or [])])
        typer.echo(f"  [{path.get('severity', '?'):>8}] {chain}", err=True)
    if len(paths) > limit:
        typer.echo(f"  ... and {len(paths) - limit} more (ktmb show RUN_ID)", err=True)
