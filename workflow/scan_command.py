"""``ktmb scan``'s command line: its own small parser, so that a scan never imports typer.

``ktmb scan`` is the command CI pipelines and pre-commit hooks start for every change, so its
start-up is most of its run. The console script (:mod:`workflow.entry`) sends ``ktmb scan ...``
straight here; ``ktmb [GLOBAL OPTIONS] scan ...`` goes through the typer application, whose
``scan`` entry hands the same words to :func:`main`. Either way this module parses them, and
``ktmb scan --help`` is this parser's. Errors are one line on standard error with exit code 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

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
    write_output,
)
from workflow.domain.errors import ConfigError
from workflow.process import freeze_imports

__all__ = ["SCAN_HELP", "main"]

#: The command's summary (the first line is its entry in ``ktmb --help``).
SCAN_HELP = (
    "Rules and reviewer only, in one process: no database, model, gates or run history.\n\n"
    "Same findings and scores as 'ktmb run --llm off', without knowledge-base citations.\n\n"
    "For CI gates (--fail-on, --format sarif), pre-commit hooks and quick checks.")


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as ktmb's one-line error instead of usage and exit."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{message} (see 'ktmb scan --help')")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ktmb scan", description=SCAN_HELP, epilog=EXIT_CODES_HELP,
                     formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.add_argument("paths", nargs="+", metavar="PATH", help=OPTION_HELP["paths"])
    parser.add_argument("--app", dest="app_name", metavar="NAME", help=OPTION_HELP["app"])
    parser.add_argument("--architecture", action="append", type=Path, metavar="FILE",
                        help=OPTION_HELP["architecture"])
    parser.add_argument("--cloud", help=OPTION_HELP["cloud"])
    parser.add_argument("--classification", help=OPTION_HELP["classification"])
    parser.add_argument("--format", dest="fmt", default="json",
                        help="json, sarif, markdown, html, mermaid or otm (default: json).")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="Write the threat model here instead of standard output.")
    parser.add_argument("--fail-on", metavar="SEVERITY", help=OPTION_HELP["fail_on"])
    return parser


def main(argv: Sequence[str]) -> int:
    """Run ``ktmb scan`` with ``argv`` (the words after ``scan``); its exit code.

    Errors are reported here, as one line on standard error; ``KTMB_DEBUG`` lets an
    unexpected one raise with its traceback.
    """
    try:
        return _scan(_parser().parse_intermixed_args(list(argv)))
    except SystemExit as done:  # --help printed
        return done.code if isinstance(done.code, int) else 0 if done.code is None else 1
    except (Exception, KeyboardInterrupt) as exc:
        return report(exc)


def _scan(args: argparse.Namespace) -> int:
    check_fail_on(args.fail_on)  # options are checked before anything is read
    check_format(args.fmt)
    from workflow.domain.inputs import load_inputs
    from workflow.domain.run import RunOptions
    from workflow.domain.settings import load_settings
    from workflow.scan import scan

    freeze_imports()
    inputs = load_inputs(args.paths, settings=load_settings(),
                         architecture=args.architecture or [])
    for warning in inputs.warnings:
        say(f"ktmb: warning: {warning}")
    model = scan(inputs, application=args.app_name or default_app_name(args.paths),
                 options=RunOptions(classification=args.classification, cloud=args.cloud))
    write_output(render(model, args.fmt), args.out)
    print_summary(model)
    if args.fail_on is not None and at_or_above(model, args.fail_on):
        say(f"findings at or above {args.fail_on}: failing (--fail-on)")
        return 5
    return 0
