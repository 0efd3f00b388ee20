"""``ktmb scan``'s own parser and command (:mod:`workflow.scan_command`), in process."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from workflow import scan as scan_module
from workflow.log import configure_logging
from workflow.scan_command import main

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "examples" / "payments" / "manifests"
NOTES = REPO / "examples" / "payments" / "ARCHITECTURE.md"


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KTMB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KTMB_DEBUG", raising=False)
    configure_logging(json_logs=True, level="WARNING", stream=io.StringIO())  # as the CLI's


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert 1 == len(lines), err
    assert lines[0].startswith("ktmb: error: ")
    return lines[0]


def test_writes_the_model_and_the_summary(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Options may come between and after the paths; the model goes to --out."""
    out = tmp_path / "model.json"
    code = main(["--app", "pay", str(MANIFESTS), "--architecture", str(NOTES),
                 "--out", str(out), "--classification", "pci"])
    assert 0 == code
    model = json.loads(out.read_text(encoding="utf-8"))
    assert "pay" == model["application"]["name"]
    assert model["findings"]
    captured = capsys.readouterr()
    assert "" == captured.out
    assert captured.err.startswith("threat model of pay: ")


def test_fail_on_exits_5(capsys: pytest.CaptureFixture[str]) -> None:
    """The example has high findings; the model still goes to stdout first."""
    assert 5 == main([str(MANIFESTS), "--fail-on", "high"])
    captured = capsys.readouterr()
    assert json.loads(captured.out)["summary"]["total"] > 0
    assert "findings at or above high: failing (--fail-on)" in captured.err


@pytest.mark.parametrize(("argv", "expected"), [
    ([], "the following arguments are required: PATH (see 'ktmb scan --help')"),
    ([str(MANIFESTS), "--bogus"], "unrecognized arguments: --bogus (see 'ktmb scan --help')"),
    ([str(MANIFESTS), "--fail"], "unrecognized arguments: --fail"),  # no abbreviations
    ([str(MANIFESTS), "--out"], "argument --out: expected one argument"),
    ([str(MANIFESTS), "--format", "pdf"], "--format must be one of json, sarif, markdown"),
    ([str(MANIFESTS), "--fail-on", "severe"],
     "--fail-on must be critical, high, medium, low or info, got 'severe'"),
])
def test_usage_errors_are_one_line_exit_2(argv: list[str], expected: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert 2 == main(argv)
    captured = capsys.readouterr()
    assert expected in _one_line(captured.err)
    assert "" == captured.out


def test_help_documents_options_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert 0 == main(["--help"])
    text = capsys.readouterr().out
    assert text.startswith("usage: ktmb scan ")
    for option in ("--app", "--architecture", "--cloud", "--classification", "--format",
                   "--out", "--fail-on"):
        assert option in text
    assert "5 findings at or above --fail-on" in text


def test_an_unexpected_failure_is_one_line_exit_1(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """No traceback, only the first line of the message; KTMB_DEBUG lets it raise."""
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(scan_module, "scan", broken)
    assert 1 == main([str(MANIFESTS)])
    line = _one_line(capsys.readouterr().err)
    assert "internal error: RuntimeError: boom (set KTMB_DEBUG=1 for a traceback)" in line
    monkeypatch.setenv("KTMB_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        main([str(MANIFESTS)])


def test_an_unwritable_out_is_one_line(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "missing-dir" / "model.json"
    assert 2 == main([str(MANIFESTS), "--out", str(out)])
    assert f"{out}: cannot write: " in _one_line(capsys.readouterr().err)
