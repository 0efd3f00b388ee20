"""Command-line usage errors are one line, ``ktmb: error: ...``, exit 2 (no boxes, no usage)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.security.cli_process import ktmb

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("args", "expected"), [
    (("reject", "some-run"), "ktmb: error: missing option '--reason' "
                             "(see 'ktmb reject --help')"),
    (("runs", "--bogus"), "ktmb: error: no such option: --bogus (see 'ktmb runs --help')"),
    (("frobnicate",), "ktmb: error: no such command 'frobnicate' (see 'ktmb --help')"),
    (("serve", "--port", "eighty"), "ktmb: error: invalid value for '--port': Input should be "
                                    "a valid integer, unable to parse string as an integer "
                                    "(see 'ktmb serve --help')"),
    (("kb", "search"), "ktmb: error: missing argument 'query' (see 'ktmb kb search --help')"),
])
def test_usage_error_is_one_line_exit_2(tmp_path: Path, args: tuple[str, ...],
                                        expected: str) -> None:
    """A missing option, an unknown option or command, a bad value: one line, exit 2."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KTMB_")}
    env["KTMB_HOME"] = str(tmp_path)
    done = ktmb(env, *args)
    assert (2, [expected], "") == (done.returncode, done.stderr.splitlines(), done.stdout)


def test_no_arguments_still_show_the_help(tmp_path: Path) -> None:
    """``ktmb`` alone prints its help (exit 2, as before), not an error line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KTMB_")}
    env["KTMB_HOME"] = str(tmp_path)
    done = ktmb(env)
    assert 2 == done.returncode
    assert "Usage: " in done.stderr + done.stdout
    assert "ktmb: error" not in done.stderr
