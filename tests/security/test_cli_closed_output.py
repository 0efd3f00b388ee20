"""A reader that closes standard output early (``ktmb runs | head -1``) ends ktmb quietly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.security.cli_process import MANIFESTS, closed_pipe, ktmb

pytestmark = pytest.mark.e2e

#: What a shell reports for ``ls`` or ``git`` whose reader went away: 128 + SIGPIPE.
CLOSED_OUTPUT = 141


def _with_closed_stdout(env: dict[str, str], *args: str) -> tuple[int, str]:
    write_end = closed_pipe()
    try:
        done = ktmb(env, *args, stdout=write_end)
    finally:
        os.close(write_end)
    return done.returncode, done.stderr


def test_stored_run_commands_end_quietly(cli_env: dict[str, str]) -> None:
    """``runs``, ``status`` and ``show`` into a closed pipe: exit 141, nothing on stderr."""
    started = ktmb(cli_env, "run", MANIFESTS)
    assert 0 == started.returncode, started.stderr
    run_id = started.stdout.splitlines()[0]
    results = {" ".join(args): _with_closed_stdout(cli_env, *args)
               for args in (("runs",), ("status", run_id), ("show", run_id),
                            ("show", run_id, "--format", "markdown"))}
    assert dict.fromkeys(results, (CLOSED_OUTPUT, "")) == results


def test_scan_ends_quietly(tmp_path: Path) -> None:
    """``ktmb scan`` (no database) into a closed pipe: exit 141, nothing on stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KTMB_")}
    env["KTMB_HOME"] = str(tmp_path)
    code, stderr = _with_closed_stdout(env, "scan", MANIFESTS, "--format", "markdown")
    assert (CLOSED_OUTPUT, "") == (code, stderr)
