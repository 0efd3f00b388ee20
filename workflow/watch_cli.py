"""``ktmb watch`` and ``ktmb run --since``: run an application again when what it reads changed.

What a run reads is its inputs as loaded (manifests, a chart's rendered templates, a
kustomization's rendered objects, notes), its profile file and the knowledge base its
principal reads (:mod:`workflow.domain.run_sources`). When none of them changed since the
earlier run, nothing runs. When something did, the lines saying what are printed, the
application runs again (the model's answers to unchanged prompts come from the answer cache,
so unchanged phases cost no model call), and only the differences between the two threat
models are printed (``ktmb diff``'s text, or its JSON).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import structlog
import typer

from workflow.command_env import CommandEnv, handled, run_options
from workflow.command_options import KubeVersionOpt, PathsArg, SetOpt, ValuesOpt, render_options
from workflow.console import OPTION_HELP, default_app_name, say, warn
from workflow.domain.errors import KtmbError, one_line
from workflow.domain.renderers import RenderOptions
from workflow.domain.run import RunOptions, RunStatus
from workflow.domain.run_sources import RunSources, changes, file_sha256, find_profile

if TYPE_CHECKING:  # the database and the graph load only in the commands that run
    from workflow.domain.inputs import LoadedInputs
    from workflow.run_store import RunInfo
    from workflow.runs import RunOutcome, Runs

__all__ = ["current_sources", "print_differences", "watch", "what_changed"]

log = structlog.get_logger(__name__)

def current_sources(env: CommandEnv, paths: Sequence[str], profile: Path | None) -> RunSources:
    """What a run of these inputs would read besides them: the profile, the knowledge base."""
    from kb.store import Principal  # with the knowledge base, which opens the database
    from workflow.knowledge_base import knowledge_base_digest

    principal = Principal.of(env.settings.user, list(env.settings.groups))
    return RunSources(profile_sha256=file_sha256(find_profile(paths, profile)),
                      kb_digest=knowledge_base_digest(env.settings, principal))


def what_changed(previous: RunInfo, inputs: LoadedInputs, sources: RunSources) -> list[str]:
    """What differs from what ``previous`` read, one line each (empty: nothing)."""
    return changes(previous.inputs, previous.sources, inputs.files, sources)


def print_differences(runs: Runs, previous: RunInfo, outcome: RunOutcome, *,
                      as_json: bool = False) -> None:
    """The differences between the earlier run's model and the new one, on standard output."""
    from workflow.diff import diff_models, render_json, render_text

    if outcome.status is not RunStatus.COMPLETED or previous.status is not RunStatus.COMPLETED:
        return
    diff = diff_models(runs.threat_model(previous.run_id),
                       outcome.model or runs.threat_model(outcome.run_id))
    say(render_json(diff) if as_json else render_text(diff), err=False)


def _stamp(paths: Sequence[str | Path]) -> tuple[tuple[str, int, int], ...]:
    """Every file under ``paths`` with its modification time and size (what a poll compares)."""
    found: list[tuple[str, int, int]] = []
    for raw in paths:
        path = Path(raw)
        walked = [path] if not path.is_dir() else sorted(
            Path(folder) / name for folder, _dirs, files in os.walk(path) for name in files)
        for item in walked:
            try:
                info = item.stat()
            except OSError:
                continue
            found.append((str(item), info.st_mtime_ns, info.st_size))
    return tuple(found)


def _latest_run(runs: Runs, application: str) -> RunInfo | None:
    """The application's newest completed run."""
    for info in runs.store.list_runs(application=application):
        if info.status is RunStatus.COMPLETED:
            return info
    return None


def watch_application(env: CommandEnv, runs: Runs, paths: list[str], *, application: str,
                      options: RunOptions, architecture: list[Path], profile: Path | None,
                      render: RenderOptions, interval: float, polls: int | None,
                      as_json: bool = False,
                      sleep: Callable[[float], None] = time.sleep) -> int:
    """Look at the application's files every ``interval`` s; run it when what it reads changed.

    The comparison is with its last completed run. Returns how many runs it started.
    """
    from workflow.app_options import profile_options
    from workflow.domain.inputs import load_inputs
    from workflow.runs import new_run_id

    previous = _latest_run(runs, application)
    watched: list[str | Path] = [*paths, *architecture, *render.values,
                                 *([profile] if profile else [])]
    last_stamp: Any = None
    last_kb: str | None = None
    started = poll = 0
    while polls is None or poll < polls:
        if poll:
            sleep(interval)
        poll += 1
        stamp = _stamp([p for p in watched if p != "-"])
        try:
            sources = current_sources(env, paths, profile)
            if stamp == last_stamp and sources.kb_digest == last_kb:
                continue
            last_stamp, last_kb = stamp, sources.kb_digest
            inputs = load_inputs(paths, settings=env.settings, architecture=architecture,
                                 render=render, profile=profile)
        except KtmbError as exc:
            if poll == 1:  # unusable from the start: nothing to watch
                raise
            warn(f"not run: {one_line(exc)}", event="watch_input_problem")  # an edit under way
            continue
        changed = what_changed(previous, inputs, sources) if previous else ["first run"]
        if not changed:
            continue
        for line in changed:
            say(f"{application}: {line}", event="watch_changed", application=application,
                change=line)
        run_id = new_run_id(application)
        outcome = runs.start(inputs, application=application, approval=[],
                             options=profile_options(options, inputs),
                             created_by=env.settings.user,
                             owner_groups=list(env.settings.groups), run_id=run_id,
                             sources=sources)
        started += 1
        say(f"run {run_id}: {outcome.status.value}", event="watch_run", run_id=run_id,
            status=outcome.status.value)
        if previous is not None:
            print_differences(runs, previous, outcome, as_json=as_json)
        if outcome.status is RunStatus.COMPLETED:
            previous = runs.info(run_id)
    return started


@handled
def watch(
    ctx: typer.Context,
    paths: PathsArg,
    app_name: Annotated[str | None, typer.Option("--app", help=OPTION_HELP["app"])] = None,
    architecture: Annotated[list[Path] | None, typer.Option(
        help=OPTION_HELP["architecture"])] = None,
    profile: Annotated[Path | None, typer.Option(
        help="The application's profile (default: ktmb.yaml beside the manifests).")] = None,
    values: ValuesOpt = None,
    set_values: SetOpt = None,
    kube: KubeVersionOpt = None,
    llm: Annotated[str, typer.Option(help="Model provider: off, ollama or llamacpp.")] = "off",
    model: Annotated[str | None, typer.Option(help="Ollama model name or GGUF file.")] = None,
    allow_remote_model: Annotated[bool, typer.Option(
        help="Allow a model host that is not loopback or private.")] = False,
    cloud: Annotated[str | None, typer.Option(help=OPTION_HELP["cloud"])] = None,
    classification: Annotated[str | None, typer.Option(
        help=OPTION_HELP["classification"])] = None,
    interval: Annotated[float, typer.Option(
        min=0, help="Seconds between two looks at the files.")] = 10.0,
    polls: Annotated[int | None, typer.Option(
        min=1, help="Stop after this many looks (default: until interrupted).")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print each run's differences as JSON (as 'ktmb diff --json').")] = False,
) -> None:
    """Run an application again when its inputs change; print only its model's differences.

    Inputs are its manifests (charts and kustomizations rendered), profile and notes, and the
    knowledge base. The first look runs it unless its last completed run read the same; runs whose
    inputs did not change are not started. Stop it with Ctrl-C (or --polls).
    """
    render = render_options(values, set_values, kube)
    options = run_options(llm, model, cloud, classification)
    env = CommandEnv(ctx)
    runs = env.runs(progress=True, allow_remote_model=allow_remote_model)
    env.model_client(options.llm.provider, model)  # fail fast on a bad model choice
    watch_application(env, runs, paths, application=app_name or default_app_name(paths),
                      options=options, architecture=list(architecture or []),
                      profile=profile, render=render, interval=interval, polls=polls,
                      as_json=as_json)
