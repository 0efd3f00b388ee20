"""Terminal escape sequences in names never reach a terminal or a text export raw.

A resource name may carry ``ESC]0;...BEL`` (set the window title), colour and cursor codes
(JSON ``\\u001b``), 8-bit C1 controls or bidi overrides; a file name may carry them too. Every
line ktmb writes to a terminal and every text export shows them as visible escapes.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner, Result

from workflow.cli import app
from workflow.domain.errors import InventoryError
from workflow.domain.printable import printable
from workflow.log import configure_logging

#: A workload name that sets the window title, turns the text red, clears the screen (C1 CSI) and
#: reverses what follows (bidi override).
HOSTILE = "web\x1b]0;pwned\x07\x1b[31mred\x9b2J\u202ecod"
#: What a person sees instead.
SHOWN = "web\\x1b]0;pwned\\x07\\x1b[31mred\\x9b2Jcod"
#: Characters a terminal acts on: C0 but tab and newline, DEL, C1, bidi overrides and isolates.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _deployment(name: str) -> dict[str, object]:
    labels = {"app": "web"}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.25",
                                         "securityContext": {"privileged": True}}]}}}}


def _strings(value: object) -> list[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *_strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


@pytest.fixture
def hostile_pod(tmp_path: Path) -> Path:
    """A JSON manifest whose workload name carries escape sequences (JSON-escaped in the file)."""
    path = tmp_path / "pod.json"
    path.write_text(json.dumps(_deployment(HOSTILE)), encoding="ascii")
    return path


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KTMB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KTMB_DEBUG", raising=False)


def ktmb(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env={"KTMB_EMBEDDINGS": "off", **(env or {})},
                              catch_exceptions=False)


def test_printable_shows_controls_and_drops_bidi_overrides() -> None:
    """C0, DEL and C1 controls become ``\\xNN``; bidi overrides go; tab and newline stay."""
    assert SHOWN == printable(HOSTILE)
    assert "a\tb\nc\\x0dd\\x7f\\x85\\x00" == printable("a\tb\nc\rd\x7f\x85\x00")
    assert "abcdefgh" == printable("a\u202ab\u202bc\u202cd\u202de\u2066f\u2067g\u2068\u2069h")
    assert "Grüße, 東京" == printable("Grüße, 東京")


@pytest.mark.parametrize(("fmt", "shown"), [
    ("markdown", "\\x1b]0;pwned\\x07"),
    ("html", "\\x1b]0;pwned\\x07"),
    ("mermaid", "#27;#93;0#59;pwned#7;"),  # Mermaid's own character codes
])
def test_text_exports_show_escapes(hostile_pod: Path, fmt: str, shown: str) -> None:
    """Markdown, Mermaid and HTML exports carry no control or bidi character."""
    result = ktmb("scan", str(hostile_pod), "--format", fmt)
    assert 0 == result.exit_code, result.stderr
    assert [] == RAW.findall(result.stdout)
    assert shown in result.stdout


@pytest.mark.parametrize("fmt", ["json", "sarif", "otm"])
def test_json_exports_escape_c1_and_bidi(hostile_pod: Path, fmt: str) -> None:
    """JSON exports write every such character as a ``\\u`` escape: same value, nothing raw."""
    result = ktmb("scan", str(hostile_pod), "--format", fmt)
    assert 0 == result.exit_code, result.stderr
    assert [] == RAW.findall(result.stdout)
    assert any(HOSTILE in text for text in _strings(json.loads(result.stdout)))


def test_summary_line_shows_escapes(hostile_pod: Path) -> None:
    """The summary a scan writes to the terminal shows an application name's escapes."""
    result = ktmb("scan", str(hostile_pod), "--app", HOSTILE, "--out", str(hostile_pod) + ".o")
    assert 0 == result.exit_code, result.stderr
    assert [] == RAW.findall(result.stderr)
    assert f"threat model of {SHOWN}:" in result.stderr


def test_error_naming_a_hostile_file(tmp_path: Path) -> None:
    """An error naming a file whose name carries escapes shows them, on one line."""
    path = tmp_path / "bad\x1b[2J\x1b]0;x\x07.yaml"
    path.write_text("kind: [unclosed\n", encoding="utf-8")
    result = ktmb("scan", str(path))
    assert 2 == result.exit_code
    assert [] == RAW.findall(result.stderr)
    assert 1 == len(result.stderr.strip().splitlines())
    assert "bad\\x1b[2J\\x1b]0;x\\x07.yaml:2: invalid YAML" in result.stderr


def test_inventory_error_path_is_printable() -> None:
    """An InventoryError's path and message are safe to print wherever they go."""
    err = InventoryError("a\x1b[31m\u202e.yaml", "problem", line=3)
    assert ("a\\x1b[31m.yaml", "a\\x1b[31m.yaml:3: problem") == (err.path, str(err))


def test_raw_escape_in_yaml_is_named(tmp_path: Path) -> None:
    """A raw ESC byte in YAML is refused with its line and how to write it instead."""
    path = tmp_path / "pod.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\x1b[31mb\n",
                    encoding="utf-8")
    result = ktmb("scan", str(path))
    assert 2 == result.exit_code
    assert (f"ktmb: error: {path}:4: control character U+001B (ESC) is not allowed in YAML; "
            'remove it or write it as "\\e" in a double-quoted string\n') == result.stderr


def test_raw_control_character_in_json_is_named(tmp_path: Path) -> None:
    """A raw BEL in a JSON file is refused with its line and the JSON escape to use."""
    path = tmp_path / "pod.json"
    path.write_text('{"apiVersion": "v1",\n "kind": "Pod",\n "metadata": {"name": "a\x07"}}',
                    encoding="utf-8")
    result = ktmb("scan", str(path))
    assert 2 == result.exit_code
    assert (f"ktmb: error: {path}:3: control character U+0007 (BEL) is not allowed in YAML; "
            'remove it or write it as "\\u0007" in a double-quoted string\n') == result.stderr


def test_console_logs_show_escapes() -> None:
    """Console log lines (a terminal) show escapes in every value."""
    out = io.StringIO()
    configure_logging(json_logs=False, stream=out)
    try:
        structlog.get_logger("t").warning("input_skipped", file=HOSTILE)
    finally:
        configure_logging(json_logs=True, stream=io.StringIO())
    assert [] == RAW.findall(out.getvalue())
    assert SHOWN in out.getvalue()


@pytest.mark.e2e
def test_approval_gate_status_and_runs_show_escapes(
        cli_env: dict[str, str], hostile_pod: Path) -> None:
    """The findings at a gate, ``status`` and ``runs`` show a hostile name's escapes."""
    gate = ktmb("run", str(hostile_pod), "--app", HOSTILE, "--approval", "controls",
                env=cli_env)
    assert 3 == gate.exit_code, gate.stderr
    assert [] == RAW.findall(gate.stderr)
    assert f"Deployment/default/{SHOWN}" in gate.stderr
    run_id = gate.stdout.strip().splitlines()[0]
    status = ktmb("status", run_id, env=cli_env)
    listed = ktmb("runs", env=cli_env)
    assert (0, 0) == (status.exit_code, listed.exit_code)
    assert [] == RAW.findall(status.stdout + listed.stdout)
    assert SHOWN in status.stdout
    assert SHOWN in listed.stdout
