"""What every ``ktmb`` command shares: the error handler, and the runs it opens and reports."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from workflow.console import (
    failing,
    logs_are_json,
    print_drift,
    print_failures,
    print_summary,
    report,
    say,
    write_file,
)
from workflow.domain.errors import ConfigError
from workflow.domain.printable import json_printable
from workflow.domain.run import LlmOptions, LlmProvider, RunOptions, RunStatus
from workflow.domain.settings import Settings, load_settings
from workflow.domain.threat_model import PHASES, Phase, ThreatModel

if TYPE_CHECKING:  # the graph and the database load only in the commands that run
    from workflow.run_setup import RunSetup
    from workflow.runs import BaselineChoice, Runs

__all__ = ["STATUS_EXIT", "CommandEnv", "baseline_choice", "handled", "model_of", "phase_of",
           "print_findings", "print_paths", "print_progress", "report_outcome", "run_options"]

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
    """A finished phase as one whole line on standard error.

    A log line written while the phase runs stays a line of its own.
    """
    if event != "finished":
        return
    status = details.get("status", "completed")
    mark = "" if status == "completed" else f" [{status}]"
    count = details.get("findings", 0)
    say(f"  {phase.value:<12} {count} finding{'' if count == 1 else 's'}{mark}")


def baseline_choice(ref: str | None, runs: Runs) -> BaselineChoice:
    """What ``--baseline`` names: a threat-model file, a run id, ``none``; by default the latest.

    Raises:
        NotFoundError: no such run.
        ConfigError: the run has not completed, or the file is not a threat model.
    """
    # The runs module loads the graph: only the commands that open runs import it.
    from workflow.app_options import snapshot_file
    from workflow.domain.baseline import BaselineSnapshot
    from workflow.runs import LATEST

    if ref is None:
        return LATEST
    if ref.strip().lower() == "none":
        return None
    path = Path(ref)
    if path.is_file():
        return snapshot_file(path)
    runs.info(ref)  # no such run: NotFoundError
    stored = runs.store.threat_model(ref)
    if stored is None:
        raise ConfigError(f"--baseline: run {ref} has not completed; a baseline is a completed "
                          f"run or a threat-model JSON file")
    return BaselineSnapshot.of_model(ThreatModel.model_validate_json(stored[1]), ref)


def report_outcome(outcome: Any, runs: Any, *, out: Path | None = None, quiet: bool = False,
                   fail_on: str | None = None, drift_only: bool = False) -> None:
    """Print where a run stands, show a pending phase, write --out, exit with its code.

    ``drift_only``: ``--fail-on`` counts only findings new or changed against the baseline.
    """
    status = outcome.status
    run_id = outcome.run_id
    if status is RunStatus.AWAITING_APPROVAL:
        pending = runs.pending(run_id) or {}
        _print_pending(run_id, outcome.pending_phase, pending.get("findings", []),
                       pending.get("scores"), pending.get("attack_paths", []),
                       pending.get("drift"))
    elif status is RunStatus.REJECTED:
        say(f"run {run_id} was rejected at the {outcome.pending_phase} phase; "
            f"redo it with: ktmb rerun {run_id} --from {outcome.pending_phase}",
            event="run_outcome", run_id=run_id, status=status.value,
            phase=outcome.pending_phase)
    elif status is RunStatus.COMPLETED:
        model: ThreatModel = outcome.model or runs.threat_model(run_id)
        if not quiet:
            print_summary(model)
            print_drift(model)
        if out is not None:
            write_file(out, json_printable(model.model_dump_json(indent=2)))
        failures = failing(model, fail_on, drift_only=drift_only) if fail_on else []
        if failures:
            print_failures(failures, str(fail_on), drift_only=drift_only, run_id=run_id)
            raise typer.Exit(5)
    elif status is RunStatus.INTERRUPTED:
        say(f"run {run_id} stopped; continue with: ktmb resume {run_id}",
            event="run_outcome", level="warning", run_id=run_id, status=status.value)
    raise typer.Exit(STATUS_EXIT.get(status, 1))


def _print_pending(run_id: str, phase: str | None, findings: list[dict[str, Any]],
                   scores: str | None = None,
                   paths: list[dict[str, Any]] | None = None,
                   drift: dict[str, Any] | None = None) -> None:
    """A run waiting at a gate: the phase, its findings (and paths), how to approve or reject."""
    text = f"run {run_id} is waiting for approval of the {phase} phase"
    if logs_are_json():
        say(text, event="run_outcome", run_id=run_id, status=RunStatus.AWAITING_APPROVAL.value,
            phase=phase, scores=scores, drift=drift,
            findings=[{"id": f.get("id"), "severity": f.get("severity"), "score": f.get("score"),
                       "title": f.get("title"),
                       "baseline": (f.get("baseline") or {}).get("state"),
                       "triage": (f.get("triage") or {}).get("message")} for f in findings],
            attack_paths=[p.get("id") for p in paths or []])
        return
    say(text)
    if drift is not None:
        say(f"  against baseline {drift.get('baseline')}: {len(drift.get('new', []))} new, "
            f"{len(drift.get('changed', []))} changed, {len(drift.get('resolved', []))} "
            "resolved in this phase")
        for fid in drift.get("resolved", []):
            say(f"  [resolved] {fid}")
    print_findings(findings, scores=scores)
    print_paths(paths or [])
    say(f"  approve: ktmb approve {run_id} [--comment TEXT] [--edits FILE]")
    say(f"  reject:  ktmb reject {run_id} --reason TEXT")


def print_findings(findings: list[dict[str, Any]], *, scores: str | None = None) -> None:
    """A pending phase's findings: band, score and id, then the title and why the score moved.

    ``scores`` says what the scores are (the gate's payload says it), printed once first.
    """
    if not findings:
        say("  (no findings in this phase)")
    elif scores:
        say(f"  {scores}:")
    for f in findings:
        mark = (f.get("baseline") or {}).get("state")
        say(f"  [{f.get('severity', '?'):>8} {float(f.get('score', 0)):4.1f}] {f.get('id')}"
            + (f"  ({mark})" if mark else ""))
        say(f"             {f.get('title')}")
        if f.get("score_factors"):
            say(f"             ({'; '.join(f['score_factors'])})")
        if f.get("triage"):
            say(f"             triage: {f['triage'].get('message')}")


def phase_of(value: str) -> Phase:
    """The phase a ``--from`` names."""
    try:
        return Phase(value)
    except ValueError:
        raise ConfigError(f"unknown phase {value!r}; phases: "
                          f"{', '.join(p.value for p in PHASES)}") from None


def run_options(llm: str, model: str | None, cloud: str | None,
                classification: str | None, *, namespace: str | None = None,
                rules: tuple[str, ...] = (), skip_rules: tuple[str, ...] = ()) -> RunOptions:
    """The run options of the run command's options.

    ``--llm``, ``--model``, ``--cloud``, ``--classification``, ``--namespace``, and the
    ``--rules`` and ``--skip-rules`` patterns (checked, as
    :class:`agents.rule_selection.RuleSelection` gives them).
    """
    try:
        provider = LlmProvider(llm)
    except ValueError:
        raise ConfigError(f"--llm must be one of {', '.join(LlmProvider)}, got {llm!r}") from None
    return RunOptions(llm=LlmOptions(provider=provider, model=model), cloud=cloud,
                      classification=classification, namespace=namespace, rules=rules,
                      skip_rules=skip_rules)


def model_of(ref: str, env: CommandEnv) -> ThreatModel:
    """The threat model of a run id, or of a JSON file when ``ref`` names one."""
    path = Path(ref)
    if not path.is_file():
        return env.runs().threat_model(ref)
    from workflow.app_options import model_file

    return model_file(path)


def print_paths(paths: list[dict[str, Any]], *, limit: int = 10) -> None:
    """A pending risk review's attack paths, one line each (the most severe first)."""
    if not paths:
        return
    say(f"  attack paths ({len(paths)}):")
    for path in paths[:limit]:
        chain = " -> ".join([str(path.get("origin")),
                             *(str(h.get("to")) for h in path.get("hops") or [])])
        say(f"  [{path.get('severity', '?'):>8}] {chain}")
    if len(paths) > limit:
        say(f"  ... and {len(paths) - limit} more (ktmb show RUN_ID)")
