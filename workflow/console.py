"""What the command line writes and checks, without the CLI framework.

The typer commands (:mod:`workflow.cli`) write and check through these functions, which can be
tested without a command runner. Every message goes to standard error except the document a
command prints (a threat model, a run id). Every line goes through :func:`say`, which shows
terminal escapes and control characters in names and messages as visible text
(:func:`~workflow.domain.printable.printable`); the documents are safe by their format
(:mod:`workflow.exports`). With ``--log-json`` standard error carries JSON lines only: each
message is then a log event of its own (``event``, ``message`` and its fields).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import structlog

from workflow.domain.errors import ConfigError, KtmbError, one_line
from workflow.domain.marks import BaselineState
from workflow.domain.printable import json_printable, printable

if TYPE_CHECKING:
    from workflow.domain.threat_model import Finding, ThreatModel
    from workflow.exports import Format

__all__ = [
    "EXIT_CLOSED_OUTPUT",
    "EXIT_CODES_HELP",
    "OPTION_HELP",
    "at_or_above",
    "check_fail_on",
    "check_format",
    "debugging",
    "default_app_name",
    "error",
    "failing",
    "internal_error",
    "logs_are_json",
    "print_drift",
    "print_failures",
    "print_summary",
    "render",
    "report",
    "say",
    "warn",
    "write_file",
    "write_output",
]

EXIT_CODES_HELP = (
    "Exit codes: 0 completed, 1 internal error, 2 bad input or usage, "
    "3 awaiting approval, 4 rejected, 5 findings at or above --fail-on, "
    "141 output closed early (ktmb ... | head).")

#: The exit code when the reader of the output went away (``ktmb runs | head -1``): what a
#: shell reports for ``ls`` or ``git`` in the same pipeline (128 + SIGPIPE), with no message.
EXIT_CLOSED_OUTPUT = 128 + signal.SIGPIPE

#: Help of the options ``run`` and ``scan`` share (one application's inputs and what to do
#: with its model), by option.
OPTION_HELP = {
    "paths": "Manifest files, directories, or - for standard input.",
    "app": "Application name.",
    "architecture": "Architecture or security-review notes (Markdown/text); repeatable.",
    "cloud": "eks, gke, aks or on-prem.",
    "classification": "Data classification, e.g. pci, personal, confidential.",
    "fail_on": "Exit 5 when an open finding is at or above this severity (critical, high, "
               "medium, low, info); with --baseline, only a new or changed one.",
    "profile": "The application profile (default: ktmb.yaml in a manifest directory or beside "
               "a manifest file).",
    "suppressions": "The suppressions file (default: ktmb-suppressions.yaml found like the "
                    "profile).",
    "rules": "Run only these rules: ids or globs (controls.*), comma-separated or repeated.",
    "skip_rules": "Do not run these rules: ids or globs, comma-separated or repeated.",
    "values": "Helm values file for the charts among the inputs; repeatable, merged in order.",
    "set": "Helm value KEY=VALUE (Helm's --set syntax); repeatable, applied after --values.",
    "kube_version": "Kubernetes version (e.g. 1.33): charts render for it, and every object "
                    "is validated against its OpenAPI schemas (invalid ones are reported and "
                    "not analysed).",
}

_messages = structlog.get_logger("ktmb")


def logs_are_json() -> bool:
    """Whether the logs are JSON lines (``--log-json``): then so is every message."""
    processors = structlog.get_config()["processors"]
    return bool(processors) and isinstance(processors[-1], structlog.processors.JSONRenderer)


def say(text: str, *, err: bool = True, event: str = "message", level: str = "info",
        **fields: Any) -> None:
    """Write one message line, nothing in it raw for a terminal.

    On standard error (``err``, the default) the line is ``text``, or with ``--log-json`` a JSON
    log event named ``event`` (at ``level``) carrying ``text`` as its ``message`` and ``fields``;
    standard output carries ``text`` as it is asked for (a run id, a report).
    """
    if err and logs_are_json():
        getattr(_messages, level)(event, message=text, **fields)
        return
    stream = sys.stderr if err else sys.stdout
    stream.write(printable(text) + "\n")
    stream.flush()


def warn(message: str, *, event: str = "warning", **fields: Any) -> None:
    """A warning: ``ktmb: warning: ...`` on standard error (a JSON event with --log-json)."""
    if logs_are_json():
        say(message, event=event, level="warning", **fields)
    else:
        say(f"ktmb: warning: {message}")


def error(message: str) -> None:
    """The one line of an error on standard error.

    With --log-json it is a ``command_failed`` JSON event.
    """
    if logs_are_json():
        say(message, event="command_failed", level="error")
    else:
        say(f"ktmb: error: {message}")


def internal_error(exc: BaseException) -> str:
    """The one-line message of an unexpected exception (no traceback, no second line)."""
    return f"internal error: {one_line(exc, limit=300)} (set KTMB_DEBUG=1 for a traceback)"


def debugging() -> bool:
    """Whether ``KTMB_DEBUG`` asks for tracebacks instead of one-line internal errors."""
    return bool(os.environ.get("KTMB_DEBUG"))


def _discard_output() -> None:
    """Point standard output at /dev/null.

    The interpreter's last flush then has nowhere to fail (the Python documentation's advice
    for SIGPIPE).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # standard output is no file (a test's capture)
        pass
    finally:
        os.close(devnull)


def report(exc: BaseException) -> int:
    """Write ``exc`` as the command's one-line error; the exit code it calls for.

    ktmb's own errors carry their code, an interruption is 130, output whose reader went away
    ends quietly with 141 (as ``ls`` or ``git`` piped into ``head``), anything else is an
    internal error (1), or is raised again, traceback and all, when ``KTMB_DEBUG`` is set.
    """
    if isinstance(exc, BrokenPipeError):
        _discard_output()
        return EXIT_CLOSED_OUTPUT
    if isinstance(exc, KtmbError):
        error(str(exc))
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        error("interrupted")
        return 130
    if debugging():
        raise exc
    error(internal_error(exc))
    return 1


def _bands() -> list[str]:
    """Severity bands, most severe first."""
    from workflow.domain.scoring import SEVERITY_ORDER

    return [band.value for band in SEVERITY_ORDER]


def check_fail_on(fail_on: str | None) -> None:
    """Refuse a ``--fail-on`` that is not a severity band."""
    if fail_on is not None and fail_on not in _bands():
        raise ConfigError(f"--fail-on must be {', '.join(_bands()[:-1])} or {_bands()[-1]}, "
                          f"got {fail_on!r}")


def failing(model: ThreatModel, threshold: str, *, drift_only: bool = False) -> list[Finding]:
    """The findings that make ``--fail-on threshold`` fail.

    The open ones (questions included) whose band, a reviewer's override or else the computed
    one, is at or above ``threshold``: accepted, mitigated and false-positive findings (at a
    gate, in the UI, in the suppressions file or by annotation) never fail. With
    ``drift_only``, only findings new or changed against the model's baseline count.
    """
    bands = _bands()
    limit = bands.index(threshold)
    return [f for f in model.findings
            if f.is_open and bands.index(f.effective_severity.value) <= limit
            and (not drift_only or (f.baseline is not None and f.baseline.state in
                                    {BaselineState.NEW, BaselineState.CHANGED}))]


def at_or_above(model: ThreatModel, threshold: str) -> bool:
    """Whether ``model`` has an open finding at or above the severity ``threshold``."""
    return bool(failing(model, threshold))


def _where(finding: Finding) -> str:
    located = next((e for e in finding.evidence if e.file), None)
    if located is None or located.file is None:
        return ""
    return f"{located.file}:{located.line}" if located.line else located.file


def print_failures(findings: list[Finding], threshold: str, *, drift_only: bool = False,
                   **fields: Any) -> None:
    """The verdict of ``--fail-on`` on standard error.

    With ``drift_only`` (a baseline), first the failing findings, new or changed, one line
    each: state, band, id, where, title.
    """
    if drift_only:
        for f in findings:
            state = f.baseline.state.value if f.baseline is not None else "new"
            where = _where(f)
            say(f"  {state:<8} {f.effective_severity.value:<8} {f.id}"
                + (f"  {where}" if where else "") + f"  {f.title}",
                event="fail_on_finding", level="warning", finding=f.id, baseline=state,
                severity=f.effective_severity.value, where=where)
    what = (f"{len(findings)} new or changed finding{'' if len(findings) == 1 else 's'}"
            if drift_only else "findings")
    say(f"{what} at or above {threshold}: failing (--fail-on)",
        event="fail_on_reached", level="warning", fail_on=threshold, **fields)


def print_drift(model: ThreatModel) -> None:
    """The model against its baseline in one line (standard error), if it has one."""
    if model.baseline is None:
        return
    counts = model.baseline.counts
    say(f"against baseline {model.baseline.ref}: " + ", ".join(
        f"{counts.get(k, 0)} {k}" for k in ("new", "changed", "unchanged", "resolved")),
        event="baseline_drift", baseline=model.baseline.ref, counts=dict(counts))


def check_format(fmt: str, *, also: tuple[str, ...] = ()) -> None:
    """Refuse an output format ktmb does not write (``also``: a command's own formats)."""
    if fmt == "json" or fmt in also:
        return
    from workflow.exports import FORMATS

    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join((*FORMATS, *also))}, "
                          f"got {fmt!r}")


def render(model: ThreatModel, fmt: str) -> str:
    """``model`` as the text of an output format (``json`` is the model itself)."""
    check_format(fmt)
    if fmt == "json":
        return json_printable(model.model_dump_json(indent=2))
    from workflow.exports import export

    return export(model, cast("Format", fmt))  # checked by check_format


def write_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path``; a failure is one line naming the file."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None


def write_output(text: str, out: Path | None) -> None:
    """A command's document: to ``out`` when given, else to standard output."""
    if out is not None:
        write_file(out, text)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def print_summary(model: ThreatModel) -> None:
    """Counts by severity, the overall risk and the degradations, on standard error."""
    summary = model.summary
    counts = ", ".join(f"{k} {v}" for k, v in summary.by_severity.items() if v)
    degradations = [f"{d.phase or 'run'} {d.component}: {d.reason}" for d in model.degradations]
    text = (f"threat model of {model.application.name}: {summary.total} findings "
            f"({counts or 'none'}); overall risk {summary.overall_risk.value}")
    if logs_are_json():
        say(text, event="threat_model_summary", application=model.application.name,
            findings=summary.total, by_severity=dict(summary.by_severity),
            overall_risk=summary.overall_risk.value, model_used=model.generator.llm is not None,
            degradations=degradations)
        return
    say(text)
    if model.generator.llm is None:
        say("  no model was used: rule findings only")
    for line in degradations:
        say(f"  degraded: {line}")


_GENERIC_DIRS = {"manifests", "manifest", "deploy", "deployment", "k8s", "kubernetes", "kube",
                 "yaml", "base", "release", "rendered", "static", "templates", "overlays"}


def default_app_name(paths: list[str]) -> str:
    """The application's name from its first path, skipping generic folder names."""
    first = paths[0] if paths else "app"
    if first == "-":
        return "stdin"
    path = Path(first).resolve()
    if not path.is_dir():
        path = path.parent if path.stem.lower() in _GENERIC_DIRS else path
        if not path.is_dir():
            return path.stem
    while path.name.lower() in _GENERIC_DIRS and path.parent != path:
        path = path.parent
    return path.name or "app"
