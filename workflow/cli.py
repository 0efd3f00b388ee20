"""The ``ktmb`` command line.

Exit codes: 0 completed, 1 internal error, 2 bad input or usage, 3 awaiting approval,
4 rejected (and 5 for ``--fail-on`` when findings at or above that severity exist; 141 when the
reader of the output went away, as for ``ls`` or ``git`` piped into ``head``).
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer

# typer exports no usage-error class: these are the vendored click's, which typer raises.
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from workflow import __version__
from workflow.batch_cli import batch_app
from workflow.command_env import (
    CommandEnv,
    baseline_choice,
    handled,
    model_of,
    phase_of,
    report_outcome,
    run_options,
)
from workflow.command_options import (
    AppOpt,
    ArchitectureOpt,
    ClassificationOpt,
    CloudOpt,
    FailOnOpt,
    KubeVersionOpt,
    NamespaceOpt,
    PathsArg,
    ProfileOpt,
    RulesOpt,
    SetOpt,
    SkipRulesOpt,
    SuppressionsOpt,
    ValuesOpt,
    print_warnings,
    render_options,
    rule_patterns,
)
from workflow.console import (
    EXIT_CODES_HELP,
    check_fail_on,
    default_app_name,
    error,
    render,
    report,
    say,
    write_output,
)
from workflow.domain.errors import ConfigError
from workflow.domain.run import Decision
from workflow.domain.settings import load_settings
from workflow.domain.threat_model import PHASES
from workflow.kb_cli import kb_app
from workflow.log import configure_logging
from workflow.paths_cli import paths_app
from workflow.scan_cli import scan
from workflow.triage_cli import triage_app
from workflow.watch_cli import current_sources, print_differences, watch, what_changed

__all__ = ["app", "main"]

app = typer.Typer(
    name="ktmb", add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Kubernetes Threat Model Builder: offline, phase-gated threat models from manifests.\n\n"
         + EXIT_CODES_HELP,
    epilog=EXIT_CODES_HELP)


log = structlog.get_logger(__name__)


def _show_version(value: bool) -> None:
    if value:
        say(f"ktmb {__version__}", err=False)
        raise typer.Exit(0)


@app.callback()
def _main(
    ctx: typer.Context,
    log_json: Annotated[bool, typer.Option("--log-json", help="Structured JSON logs.")] = False,
    log_level: Annotated[str, typer.Option(help="Lowest log level shown.")] = "WARNING",
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Kubernetes Threat Model Builder."""
    ctx.obj = {"progress": not log_json}
    configure_logging(json_logs=log_json,
                      level="INFO" if log_json and log_level == "WARNING" else log_level)


@app.command()
@handled
def run(
    ctx: typer.Context,
    paths: PathsArg,
    app_name: AppOpt = None,
    architecture: ArchitectureOpt = None,
    approval: Annotated[str, typer.Option(
        help="Phases that need approval: none, each, changed (the phases whose findings "
             "changed against the baseline), or PHASE[,PHASE...].")] = "none",
    llm: Annotated[str, typer.Option(help="Model provider: off, ollama or llamacpp.")] = "off",
    model: Annotated[str | None, typer.Option(help="Ollama model name or GGUF file.")] = None,
    allow_remote_model: Annotated[bool, typer.Option(
        help="Allow a model host that is not loopback or private.")] = False,
    cloud: CloudOpt = None,
    classification: ClassificationOpt = None,
    out: Annotated[Path | None, typer.Option(help="Write the threat-model JSON here.")] = None,
    fail_on: FailOnOpt = None,
    namespace: NamespaceOpt = None,
    rules: RulesOpt = None,
    skip_rules: SkipRulesOpt = None,
    profile: ProfileOpt = None,
    suppressions: SuppressionsOpt = None,
    baseline: Annotated[str | None, typer.Option(
        help="Compare with this run id or threat-model JSON file, or none (default: the "
             "application's latest completed run).")] = None,
    values: ValuesOpt = None,
    set_values: SetOpt = None,
    kube: KubeVersionOpt = None,
    since: Annotated[str | None, typer.Option(
        help="Run only if the inputs, profile or knowledge base changed since this run; then "
             "print only the differences from its model.")] = None,
) -> None:
    """Build the threat model of one application; prints the run id.

    With --since RUN_ID, nothing runs when nothing changed since that run (its id is printed);
    otherwise what changed is listed, and the model's differences from that run's are printed.
    """
    check_fail_on(fail_on)
    include, exclude = rule_patterns(rules, skip_rules)
    from workflow.app_options import application_name, profile_options
    from workflow.gates import parse_approval_policy

    env = CommandEnv(ctx)
    policy = parse_approval_policy(approval)
    from workflow.domain.inputs import load_inputs

    asked = run_options(llm, model, cloud, classification, namespace=namespace, rules=include,
                        skip_rules=exclude)
    rendering = render_options(values, set_values, kube)
    runs = env.runs(progress=True, allow_remote_model=allow_remote_model)
    previous = runs.info(since) if since else None
    inputs = load_inputs(paths, settings=env.settings, architecture=architecture or [],
                         namespace=asked.namespace, profile=profile, suppressions=suppressions,
                         render=rendering)
    print_warnings(inputs.warnings)
    options = profile_options(asked, inputs)
    name = application_name(app_name, inputs, previous.application if previous
                            else default_app_name(paths))
    env.model_client(options.llm.provider, model)  # fail fast on a bad model choice
    compared = baseline_choice(baseline, runs)
    sources = current_sources(env, paths, profile)
    if previous is not None:
        changed = what_changed(previous, inputs, sources)
        if not changed:
            say(previous.run_id, err=False)
            say(f"nothing changed since {previous.run_id}: no new run", event="run_unchanged",
                run_id=previous.run_id)
            raise typer.Exit(0)
        for line in changed:
            say(f"since {previous.run_id}: {line}", event="run_changed",
                run_id=previous.run_id, change=line)
    from workflow.runs import new_run_id

    run_id = new_run_id(name)
    say(run_id, err=False)
    say(f"run {run_id}: {name}, {len(inputs.resources)} objects", event="run_started",
        run_id=run_id, application=name, objects=len(inputs.resources))
    outcome = runs.start(inputs, application=name, approval=policy, options=options,
                         created_by=env.settings.user, owner_groups=list(env.settings.groups),
                         run_id=run_id, baseline=compared, sources=sources)
    if previous is not None:
        print_differences(runs, previous, outcome)
    report_outcome(outcome, runs, out=out, fail_on=fail_on,
                   drift_only=baseline is not None and compared is not None)


@app.command()
@handled
def status(run_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show where a run stands, phase by phase."""
    runs = CommandEnv().runs()
    info = runs.info(run_id)
    state = runs.state(run_id) or {}
    phases = state.get("phases") or {}
    data: dict[str, Any] = {
        "run_id": info.run_id, "application": info.application, "status": info.status,
        "pending_phase": info.pending_phase, "current_phase": info.current_phase,
        "error": info.error, "created_at": info.created_at.isoformat(),
        "updated_at": info.updated_at.isoformat(),
        "phases": {p.value: {"status": (phases.get(p.value) or {}).get("status", "pending"),
                             "findings": (phases.get(p.value) or {}).get("findings", 0)}
                   for p in PHASES}}
    if as_json:
        say(json.dumps(data, indent=2), err=False)
    else:
        say(f"{info.run_id}  {info.application}  {info.status}"
            + (f" ({info.pending_phase})" if info.pending_phase else ""), err=False)
        for name, rec in data["phases"].items():
            say(f"  {name:<12} {rec['status']:<18} {rec['findings']} findings", err=False)
        if info.error:
            say(f"  error: {info.error}", err=False)
    raise typer.Exit(0)


@app.command("runs")
@handled
def list_runs(app_name: Annotated[str | None, typer.Option("--app")] = None,
              as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List runs, newest first."""
    items = CommandEnv().runs().store.list_runs(application=app_name)
    if as_json:
        say(json.dumps([i.model_dump(mode="json", exclude={"inputs"}) for i in items],
                       indent=2), err=False)
        return
    for i in items:
        say(f"{i.run_id}  {i.application:<24} {i.status:<18} "
            f"{i.created_at:%Y-%m-%d %H:%M}", err=False)


@app.command()
@handled
def approve(ctx: typer.Context, run_id: str,
            comment: Annotated[str, typer.Option(help="Why it is approved.")] = "",
            edits: Annotated[Path | None, typer.Option(
                help="YAML/JSON edits: remove findings, change severity or status, add notes."
            )] = None,
            by: Annotated[str | None, typer.Option(help="Reviewer name.")] = None) -> None:
    """Approve the pending phase (optionally with edits) and continue the run."""
    env = CommandEnv(ctx)
    from workflow.gates import load_edits

    parsed = load_edits(edits) if edits is not None else None
    runs = env.runs(progress=True)
    outcome = runs.decide(run_id, decision=Decision.APPROVED, by=by or env.settings.user,
                          comment=comment, edits=parsed)
    report_outcome(outcome, runs)


@app.command()
@handled
def reject(ctx: typer.Context, run_id: str,
           reason: Annotated[str, typer.Option(help="Why; given to the phase on rerun.")],
           by: Annotated[str | None, typer.Option(help="Reviewer name.")] = None) -> None:
    """Reject the pending phase: the run stops as rejected."""
    if not reason.strip():
        raise ConfigError("--reason must not be empty")
    env = CommandEnv(ctx)
    runs = env.runs(progress=True)
    outcome = runs.decide(run_id, decision=Decision.REJECTED, by=by or env.settings.user,
                          comment=reason)
    report_outcome(outcome, runs)


@app.command()
@handled
def resume(ctx: typer.Context, run_id: str) -> None:
    """Continue a stopped run from its last finished node."""
    runs = CommandEnv(ctx).runs(progress=True)
    report_outcome(runs.resume(run_id), runs)


@app.command()
@handled
def rerun(ctx: typer.Context, run_id: str,
          from_phase: Annotated[str, typer.Option("--from", help="The phase to redo.")],
          guidance: Annotated[str | None, typer.Option(
              help="Guidance for the phase (default: the rejection reason).")] = None) -> None:
    """Redo a phase and everything after it."""
    runs = CommandEnv(ctx).runs(progress=True)
    report_outcome(runs.rerun(run_id, phase_of(from_phase), guidance=guidance), runs)


@app.command()
@handled
def show(run_id: str,
         fmt: Annotated[str, typer.Option("--format", help="json, sarif, junit, markdown, "
                                                           "html, mermaid, otm, graph-json or "
                                                           "graphml.")] = "json",
         out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
         ) -> None:
    """Print a run's threat model (partial and marked so when unfinished)."""
    model = CommandEnv().runs().threat_model(run_id)
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

    env = CommandEnv()
    result = diff_models(model_of(run_a, env), model_of(run_b, env))
    say(render_json(result) if as_json else render_text(result), err=False)


@app.command()
@handled
def serve(host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8080) -> None:
    """Serve the HTTP API (/openapi.json) and the web UI (/ui/) for reviewers.

    Authentication: KTMB_API_TOKENS_FILE and/or KTMB_TRUSTED_HEADER_USER (see workflow.api).
    """
    import uvicorn

    from workflow.api import create_app

    application = create_app(CommandEnv().settings)
    say(f"ktmb serve: http://{host}:{port}/ui/ (API schema: /openapi.json)",
        event="serve_started", url=f"http://{host}:{port}/ui/")
    # uvicorn shuts down on SIGTERM, then raises the signal again for the handler it found:
    # with the default one the process would die there, before its exit handlers release the
    # embedded database. This one lets it return and exit 0.
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        uvicorn.run(application, host=host, port=port, access_log=False, server_header=False,
                    proxy_headers=False, log_level="warning")
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stopped(_signum: int, _frame: object) -> None:
    """SIGTERM after uvicorn's own shutdown: nothing left to do but return."""


@app.command()
@handled
def doctor(llm: Annotated[str, typer.Option(
               help="The provider to check, as for 'ktmb run': off, ollama or llamacpp.")]
           = "off",
           model: Annotated[str | None, typer.Option(help="Model to check.")] = None,
           allow_remote_model: Annotated[bool, typer.Option()] = False) -> None:
    """Report what 'ktmb run --llm LLM' needs and each optional capability, with its fix.

    Exit 0 when everything that configuration needs works (for the default, --llm off: the
    database and the knowledge base); 1 when something it needs is missing (marked FAIL).
    Optional capabilities that are missing (warn) never fail the doctor.
    """
    from workflow.doctor import doctor_report  # probes model hosts and the database

    checks, ok = doctor_report(provider=llm, model=model, allow_remote=allow_remote_model,
                               settings=load_settings())
    for check in checks:
        mark = "ok  " if check.ok else ("FAIL" if check.required else "warn")
        say(f"[{mark}] {check.name}: {check.detail}", err=False)
        if not check.ok and check.fix:
            say(f"       fix: {check.fix}", err=False)
    say(f"ready: ktmb run works with --llm {llm}" if ok else
        f"not ready: ktmb run --llm {llm} needs what is marked FAIL", err=False)
    raise typer.Exit(0 if ok else 1)


app.command()(watch)
app.add_typer(batch_app)
app.add_typer(kb_app, name="kb")
app.command(epilog=EXIT_CODES_HELP)(handled(scan))
app.add_typer(paths_app)
app.add_typer(triage_app, name="triage")


def _usage_error(exc: ClickException) -> int:
    """A command line the parser refused, as one line; its exit code (2 for usage)."""
    if isinstance(exc, NoArgsIsHelpError):  # a bare group: its help is the answer
        if exc.format_message():  # (typer has printed it already when it uses rich)
            exc.show()
        return exc.exit_code
    message = " ".join(exc.format_message().split()).rstrip(".")
    message = message[:1].lower() + message[1:]
    if isinstance(exc, UsageError):
        where = exc.ctx.command_path if exc.ctx is not None else "ktmb"
        message += f" (see '{where} --help')"
    error(message)
    return exc.exit_code


def main() -> None:
    """Console entry point: every error is one line on standard error and an exit code.

    The parser runs outside click's standalone mode, so its usage errors come here as
    exceptions and are written as one line (click would print the usage and a box).
    """
    try:
        code = app(prog_name="ktmb", standalone_mode=False)
        sys.stdout.flush()  # a reader that went away is seen here, not at interpreter exit
    except ClickException as exc:
        code = _usage_error(exc)
    except typer.Abort:
        code = report(KeyboardInterrupt())
    except Exception as exc:
        code = report(exc)
    sys.exit(code if isinstance(code, int) else 0)
