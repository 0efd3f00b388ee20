"""What the command line writes and checks (:mod:`workflow.console`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflow.console import (
    check_fail_on,
    check_format,
    default_app_name,
    internal_error,
    report,
    write_file,
)
from workflow.domain.errors import ConfigError, NotFoundError


@pytest.mark.parametrize(("parts", "expected"), [
    (("shop", "deploy", "k8s"), "shop"),        # generic folder names are skipped upwards
    (("shop", "manifests", "app.yaml"), "app"),  # a file is named by its stem
    (("shop", "manifests", "manifests.yaml"), "shop"),  # ... unless the stem is generic too
    (("payments",), "payments"),
])
def test_default_app_name(tmp_path: Path, parts: tuple[str, ...], expected: str) -> None:
    path = tmp_path.joinpath(*parts)
    if path.suffix:
        path.parent.mkdir(parents=True)
        path.write_text("", encoding="utf-8")
    else:
        path.mkdir(parents=True)
    assert expected == default_app_name([str(path)])


def test_default_app_name_of_standard_input() -> None:
    assert "stdin" == default_app_name(["-", "other"])


def test_option_checks() -> None:
    for band in ("critical", "high", "medium", "low", "info", None):
        check_fail_on(band)
    with pytest.raises(ConfigError, match="--fail-on must be critical, high, medium, low or "
                                          "info, got 'severe'"):
        check_fail_on("severe")
    check_format("json")
    check_format("sarif")
    with pytest.raises(ConfigError, match="--format must be one of json, sarif"):
        check_format("pdf")


def test_internal_error_is_one_line_without_the_rest() -> None:
    text = internal_error(ValueError("first line\nsecond line with detail"))
    assert "internal error: ValueError: first line (set KTMB_DEBUG=1 for a traceback)" == text


def test_write_file_failure_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / "no-such-dir" / "out.json"
    with pytest.raises(ConfigError, match=f"{target}: cannot write: "):
        write_file(target, "{}")


def test_report_writes_one_line_and_returns_the_exit_code(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """ktmb's errors keep their code; an interruption is 130; anything else is 1, or raises
    with KTMB_DEBUG."""
    monkeypatch.delenv("KTMB_DEBUG", raising=False)
    assert 2 == report(NotFoundError("run x not found"))
    assert 130 == report(KeyboardInterrupt())
    assert 1 == report(RuntimeError("boom\nmore"))
    assert ["ktmb: error: run x not found", "ktmb: error: interrupted",
            "ktmb: error: internal error: RuntimeError: boom (set KTMB_DEBUG=1 for a traceback)"
            ] == capsys.readouterr().err.splitlines()
    monkeypatch.setenv("KTMB_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        report(RuntimeError("boom"))
    assert 2 == report(NotFoundError("still one line"))


def test_closed_output_ends_quietly_with_141(capsys: pytest.CaptureFixture[str]) -> None:
    """A reader that went away (a broken pipe) is exit 141 and no message at all."""
    assert 141 == report(BrokenPipeError(32, "Broken pipe"))
    assert ("", "") == tuple(capsys.readouterr())
