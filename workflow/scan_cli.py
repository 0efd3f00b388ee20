"""``ktmb scan``: the rules and the reviewer in one process, for CI gates and pre-commit hooks."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

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
    check_fail_on,
    check_format,
    default_app_name,
    failing,
    logs_are_json,
    print_drift,
    print_failures,
    print_summary,
    render,
    say,
    write_output,
)
from workflow.domain.errors import NoManifestsError
from workflow.domain.printable import printable
from workflow.domain.run import RunOptions
from workflow.domain.settings import load_settings

__all__ = ["scan"]


def scan(
    paths: PathsArg,
    app_name: AppOpt = None,
    architecture: ArchitectureOpt = None,
    cloud: CloudOpt = None,
    classification: ClassificationOpt = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", help="summary, json, sarif, junit, markdown, html, mermaid, otm, graph-json "
                         "or graphml (default: summary on a terminal, else json).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Write the threat model here instead of standard output.")] = None,
    fail_on: FailOnOpt = None,
    namespace: NamespaceOpt = None,
    profile: ProfileOpt = None,
    suppressions: SuppressionsOpt = None,
    baseline: Annotated[Path | None, typer.Option(
        help="A threat-model JSON file to compare with (e.g. the main branch's): findings "
             "are marked new, changed or unchanged, and --fail-on counts only new or "
             "changed ones.")] = None,
    rules: RulesOpt = None,
    skip_rules: SkipRulesOpt = None,
    only_manifests: Annotated[bool, typer.Option(
        "--only-manifests", help="Skip named files that are not Kubernetes manifests (with a "
        "warning) and exit 0 when none is left: for pre-commit hooks, which name every "
        "staged YAML file.")] = False,
    values: ValuesOpt = None,
    set_values: SetOpt = None,
    kube: KubeVersionOpt = None,
) -> None:
    """Rules and reviewer only, in one process: no database, model, gates or run history.

    Same findings and scores as 'ktmb run --llm off', without knowledge-base citations.

    For CI gates (--fail-on, --format sarif or junit, --baseline), pre-commit hooks and quick
    checks. On a terminal it prints a summary table (findings by severity and rule, where, what
    fails --fail-on); piped or with --out it writes the threat-model JSON unless --format says.
    """
    check_fail_on(fail_on)  # options are checked before anything is read
    if fmt is None:
        fmt = "summary" if out is None and sys.stdout.isatty() else "json"
    check_format(fmt, also=("summary",))
    include, exclude = rule_patterns(rules, skip_rules)
    rendering = render_options(values, set_values, kube)
    options = RunOptions(classification=classification, cloud=cloud, namespace=namespace,
                         rules=include, skip_rules=exclude)
    from workflow.app_options import application_name, profile_options, snapshot_file
    from workflow.domain.inputs import load_inputs
    from workflow.scan import scan as scan_inputs

    compared = snapshot_file(baseline) if baseline is not None else None
    try:
        inputs = load_inputs(paths, settings=load_settings(), architecture=architecture or [],
                             namespace=options.namespace, profile=profile,
                             suppressions=suppressions, skip_other_files=only_manifests,
                             render=rendering)
    except NoManifestsError:
        if not only_manifests:
            raise
        say("ktmb scan: no Kubernetes manifests among the files; nothing to scan",
            event="nothing_to_scan")
        raise typer.Exit(0) from None
    print_warnings(inputs.warnings)
    default_name = default_app_name(paths)
    if only_manifests:  # named after the manifests, not a skipped file
        default_name = default_app_name([os.path.commonpath(
            [str(Path(f.path).resolve().parent) for f in inputs.files if f.role == "manifest"]
            or [str(Path.cwd())])])
    model = scan_inputs(inputs, application=application_name(app_name, inputs, default_name),
                        options=profile_options(options, inputs), baseline=compared)
    drift_only = compared is not None
    if fmt == "summary":
        from workflow.terminal_summary import summary_text  # loads the export helpers

        write_output(printable(summary_text(model, fail_on=fail_on, drift_only=drift_only)),
                     out)
        if logs_are_json():  # the event the other formats' summary line gives
            print_summary(model)
    else:
        write_output(render(model, fmt), out)
        print_summary(model)
    print_drift(model)
    failures = failing(model, fail_on, drift_only=drift_only) if fail_on else []
    if failures:
        print_failures(failures, str(fail_on), drift_only=drift_only)
        raise typer.Exit(5)
