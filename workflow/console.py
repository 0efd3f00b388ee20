"""What the command line writes and checks, without the CLI framework.

The typer commands (:mod:`workflow.cli`) write and check through these functions, which can be
tested without a command runner. Every message goes to standard error except the document a
command prints (a threat model, a run id). Every line goes through :func:`say`, which shows
terminal escapes and control characters in names and messages as visible text
(:func:`~workflow.domain.printable.printable`); the documents are safe by their format
(:mod:`workflow.exports`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

from workflow.domain.errors import ConfigError, KtmbError, one_line
from workflow.domain.printable import json_printable, printable

if TYPE_CHECKING:
    from workflow.domain.threat_model import ThreatModel
    from workflow.exports import Format

__all__ = [
    "EXIT_CODES_HELP",
    "OPTION_HELP",
    "at_or_above",
    "check_fail_on",
    "check_format",
    "debugging",
    "default_app_name",
    "error",
    "internal_error",
    "print_summary",
    "render",
    "report",
    "say",
    "write_file",
    "write_output",
]

EXIT_CODES_HELP = (
    "Exit codes: 0 completed, 1 internal error, 2 bad input or usage, "
    "3 awaiting approval, 4 rejected, 5 findings at or above --fail-on.")

#: Help of the options ``run`` and ``scan`` share (one application's inputs and what to do
#: with its model), by option.
OPTION_HELP = {
    "paths": "Manifest files, directories, or - for standard input.",
    "app": "Application name.",
    "architecture": "Architecture or security-review notes (Markdown/text); repeatable.",
    "cloud": "eks, gke, aks or on-prem.",
    "classification": "Data classification, e.g. pci, personal, confidential.",
    "fail_on": "Exit 5 when a finding is at or above this severity (critical, high, medium, "
               "low, info).",
}

def say(text: str, *, err: bool = True, end: str = "\n") -> None:
    """Write one line to standard error (or standard output), nothing in it raw for a terminal.

    ``end=""`` leaves the line open for more (a phase's progress).
    """
    stream = sys.stderr if err else sys.stdout
    stream.write(printable(text) + end)
    if not end:
        stream.flush()


def error(message: str) -> None:
    """The one line of an error, on standard error."""
    say(f"ktmb: error: {message}")


def internal_error(exc: BaseException) -> str:
    """The one-line message of an unexpected exception (no traceback, no second line)."""
    return f"internal error: {one_line(exc, limit=300)} (set KTMB_DEBUG=1 for a traceback)"


def debugging() -> bool:
    """Whether ``KTMB_DEBUG`` asks for tracebacks instead of one-line internal errors."""
    return bool(os.environ.get("KTMB_DEBUG"))


def report(exc: BaseException) -> int:
    """Write ``exc`` as the command's one-line error; the exit code it calls for.

    ktmb's own errors carry their code, an interruption is 130, anything else is an internal
    error (1), or is raised again, traceback and all, when ``KTMB_DEBUG`` is set.
    """
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


def at_or_above(model: ThreatModel, threshold: str) -> bool:
    """Whether ``model`` has a finding at or above the severity ``threshold``."""
    bands = _bands()
    limit = bands.index(threshold)
    return any(bands.index(f.severity.value) <= limit for f in model.findings)


def check_format(fmt: str) -> None:
    """Refuse an output format ktmb does not write."""
    if fmt == "json":
        return
    from workflow.exports import FORMATS

    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")


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
    counts = ", ".join(f"{k} {v}" for k, v in model.summary.by_severity.items() if v)
    say(f"threat model of {model.application.name}: {model.summary.total} findings "
        f"({counts or 'none'}); overall risk {model.summary.overall_risk.value}")
    if model.generator.llm is None:
        say("  no model was used: rule findings only")
    for d in model.degradations:
        say(f"  degraded: {d.phase or 'run'} {d.component}: {d.reason}")


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
