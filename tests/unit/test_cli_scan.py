"""``ktmb scan``, the typer command (:func:`workflow.cli.scan`), in process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from workflow import scan as scan_module
from workflow.cli import app

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "examples" / "payments" / "manifests"
NOTES = REPO / "examples" / "payments" / "ARCHITECTURE.md"


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KTMB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KTMB_DEBUG", raising=False)


def scan(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["scan", *map(str, args)])


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert 1 == len(lines), err
    assert lines[0].startswith("ktmb: error: ")
    return lines[0]


def _words(text: str) -> str:
    """``text`` with every run of white space one space (help is wrapped to the terminal)."""
    return " ".join(text.split())


def test_writes_the_model_and_the_summary(tmp_path: Path) -> None:
    """Options may come between and after the paths; the model goes to --out."""
    out = tmp_path / "model.json"
    result = scan("--app", "pay", MANIFESTS, "--architecture", NOTES, "--out", out,
                  "--classification", "pci")
    assert 0 == result.exit_code, result.stderr
    model = json.loads(out.read_text(encoding="utf-8"))
    assert "pay" == model["application"]["name"]
    assert model["findings"]
    assert "" == result.stdout
    assert result.stderr.startswith("threat model of pay: ")


def test_fail_on_exits_5() -> None:
    """The example has high findings; the model still goes to stdout first."""
    result = scan(MANIFESTS, "--fail-on", "high")
    assert 5 == result.exit_code, result.stderr
    assert json.loads(result.stdout)["summary"]["total"] > 0
    assert "findings at or above high: failing (--fail-on)" in result.stderr


@pytest.mark.parametrize(("args", "expected"), [
    ([MANIFESTS, "--format", "pdf"], "--format must be one of json, sarif, junit, markdown"),
    ([MANIFESTS, "--fail-on", "severe"],
     "--fail-on must be critical, high, medium, low or info, got 'severe'"),
])
def test_bad_option_values_are_one_line_exit_2(args: list[str | Path], expected: str) -> None:
    result = scan(*args)
    assert 2 == result.exit_code
    assert expected in _one_line(result.stderr)
    assert "" == result.stdout


@pytest.mark.parametrize(("args", "expected"), [
    ([], "Missing argument"),
    ([MANIFESTS, "--bogus"], "No such option: --bogus"),
    ([MANIFESTS, "--fail"], "No such option: --fail"),  # no abbreviations
    ([MANIFESTS, "--out"], "Option '--out' requires an argument"),
])
def test_usage_errors_exit_2(args: list[str | Path], expected: str) -> None:
    """The command line's own usage errors: click's usage and message, nothing on stdout."""
    result = scan(*args)
    assert 2 == result.exit_code
    assert expected in result.stderr
    assert "" == result.stdout


def test_help_documents_options_and_exit_codes() -> None:
    result = scan("--help")
    assert 0 == result.exit_code
    text = _words(result.stdout)
    assert "Usage: ktmb scan " in text
    for option in ("--app", "--architecture", "--cloud", "--classification", "--format",
                   "--out", "--fail-on", "--rules", "--skip-rules"):
        assert option in text
    assert "5 findings at or above --fail-on" in text


def test_an_unexpected_failure_is_one_line_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """No traceback, only the first line of the message; KTMB_DEBUG lets it raise."""
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(scan_module, "scan", broken)
    result = scan(MANIFESTS)
    assert 1 == result.exit_code
    line = _one_line(result.stderr)
    assert "internal error: RuntimeError: boom (set KTMB_DEBUG=1 for a traceback)" in line
    monkeypatch.setenv("KTMB_DEBUG", "1")
    raised = scan(MANIFESTS)
    assert isinstance(raised.exception, RuntimeError)
    assert "boom" in str(raised.exception)


def test_an_unwritable_out_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "missing-dir" / "model.json"
    result = scan(MANIFESTS, "--out", out)
    assert 2 == result.exit_code
    assert f"{out}: cannot write: " in _one_line(result.stderr)


def test_piped_output_is_the_model_json() -> None:
    """Off a terminal (a pipe, a CI log) the default output stays the threat-model JSON."""
    result = scan(MANIFESTS)
    assert 0 == result.exit_code, result.stderr
    assert "payments" == json.loads(result.stdout)["application"]["name"]
    assert result.stderr.startswith("threat model of payments: ")


def test_summary_format_is_the_table_on_stdout() -> None:
    """``--format summary``: the table on stdout, the --fail-on verdict in it, exit 5."""
    result = scan(MANIFESTS, "--format", "summary", "--fail-on", "critical")
    assert 5 == result.exit_code, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("threat model of payments: ")
    assert lines[2].startswith("FAIL-ON  SEVERITY  RULE")
    assert "WHERE (in " in lines[2]
    assert lines[-1].startswith("--fail-on critical: FAILED: ")
    assert "findings at or above critical: failing (--fail-on)\n" == result.stderr


def test_summary_format_to_a_file(tmp_path: Path) -> None:
    """``--format summary --out FILE`` writes the table there; nothing on stdout."""
    out = tmp_path / "summary.txt"
    result = scan(MANIFESTS, "--format", "summary", "--out", out)
    assert 0 == result.exit_code, result.stderr
    assert "" == result.stdout
    assert "SEVERITY  RULE" in out.read_text(encoding="utf-8").splitlines()[2]


def test_summary_shows_escapes_in_file_names_as_text(tmp_path: Path) -> None:
    """A file name with a terminal escape reaches the table as visible text, never raw."""
    hostile = tmp_path / "web\x1b[2J.yaml"
    hostile.write_text((MANIFESTS / "10-api.yaml").read_text(encoding="utf-8"),
                       encoding="utf-8")
    result = scan(hostile, "--format", "summary")
    assert 0 == result.exit_code, result.stderr
    assert "\x1b" not in result.stdout
    assert "web\\x1b[2J.yaml" in result.stdout
