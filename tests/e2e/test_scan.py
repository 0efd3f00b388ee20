"""``ktmb scan`` and file-to-file ``ktmb diff`` end to end.

Most tests start a real process (``python -m workflow``), as a CI pipeline or a pre-commit hook
runs the command; the comparison with ``ktmb run`` uses the in-process runner on a real database.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from workflow import __version__
from workflow.cli import app

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "payments"
MANIFESTS = EXAMPLE / "manifests"
NOTES = EXAMPLE / "ARCHITECTURE.md"
PLANTED = REPO / "tests" / "fixtures" / "redaction"
SCHEMA = json.loads(
    (REPO / "workflow" / "domain" / "threat_model.schema.json").read_text(encoding="utf-8"))
PLANTED_SECRETS = ("Sup3r-S3cret-Passw0rd!", "an0ther-Planted-Secret", "Env-Planted-Pw7",
                   "AKIAPLANTEDKEY000001", "MIIEpPlantedPrivateKeyBody9", "Cm-Planted-Pw3",
                   "Notes-Planted-Pw4", "Url-Planted-Pass10")


def ktmb(*args: str | Path, home: Path) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh process, as the console script runs it."""
    env = {**os.environ, "KTMB_HOME": str(home), "KTMB_EMBEDDINGS": "off"}
    env.pop("KTMB_DATABASE_URL", None)  # a scan must not need one
    return subprocess.run([sys.executable, "-m", "workflow", *map(str, args)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert 1 == len(lines), done.stderr
    assert lines[0].startswith("ktmb: error: ")
    return lines[0]


def _schema_errors(model: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(model)]


def test_scan_prints_a_valid_model_and_creates_no_database(tmp_path: Path) -> None:
    """Without --out the model goes to stdout; no database is created; no KB is said."""
    done = ktmb("scan", MANIFESTS, "--architecture", NOTES, home=tmp_path)
    assert 0 == done.returncode, done.stderr
    model = json.loads(done.stdout)
    assert [] == _schema_errors(model)
    assert ("payments", False) == (model["application"]["name"], model["partial"])
    assert model["run_id"].startswith("payments-")
    assert model["findings"] and model["attack_paths"] and model["identity_map"]
    assert all(f["citations"] == [] for f in model["findings"])
    assert [("knowledge_base", None)] == [(d["component"], d["phase"])
                                          for d in model["degradations"]]
    assert "threat model of payments:" in done.stderr
    assert ["redaction.key"] == [p.name for p in tmp_path.iterdir()]  # no database


def test_scan_matches_run_without_citations(cli_env: dict[str, str], tmp_path: Path) -> None:
    """A scan and ``ktmb run --llm off`` of the same inputs agree on everything but citations."""
    ran, scanned = tmp_path / "run.json", tmp_path / "scan.json"
    for command, out in (("run", ran), ("scan", scanned)):
        result = CliRunner().invoke(
            app, [command, str(MANIFESTS), "--architecture", str(NOTES), "--out", str(out)],
            env={"KTMB_EMBEDDINGS": "off", **cli_env}, catch_exceptions=False)
        assert 0 == result.exit_code, result.stderr
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (ran, scanned))
    assert any(f["citations"] for f in a["findings"])  # the run did consult the knowledge base
    for model in (a, b):
        for finding in model["findings"]:
            finding.pop("citations")
    assert ["created_at", "degradations", "run_id"] == sorted(k for k in a if a[k] != b[k])


def test_fail_on_and_sarif(tmp_path: Path) -> None:
    """--fail-on exits 5 at or above the band and 0 below it; --format sarif writes SARIF."""
    sarif = tmp_path / "ktmb.sarif"
    failing = ktmb("scan", MANIFESTS, "--fail-on", "high", "--format", "sarif", "--out", sarif,
                   home=tmp_path)
    assert 5 == failing.returncode, failing.stderr
    assert "findings at or above high: failing (--fail-on)" in failing.stderr
    assert "" == failing.stdout
    report = json.loads(sarif.read_text(encoding="utf-8"))
    assert "2.1.0" == report["version"] and report["runs"][0]["results"]
    hardened = tmp_path / "hardened.yaml"
    hardened.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: apps}\n"
        "data: {mode: quiet}\n", encoding="utf-8")
    passing = ktmb("scan", hardened, "--fail-on", "critical", "--out", tmp_path / "m.json",
                   home=tmp_path)
    assert 0 == passing.returncode, passing.stderr


@pytest.mark.parametrize(("args", "expected"), [
    (["--fail-on", "severe"], "--fail-on must be critical, high, medium, low or info"),
    (["--format", "pdf"], "--format must be one of json, sarif, junit, markdown, html, mermaid, "
                          "otm, graph-json, graphml, summary, got 'pdf'"),
])
def test_bad_options_are_one_line_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    """Options are checked before anything is read."""
    done = ktmb("scan", MANIFESTS, *args, home=tmp_path)
    assert 2 == done.returncode
    assert expected in _one_line_error(done)


def test_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    """Broken YAML names file:line; a missing path is named; nothing goes to stdout."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n   oops: 1\n",
                   encoding="utf-8")
    broken = ktmb("scan", bad, home=tmp_path)
    assert 2 == broken.returncode
    assert _one_line_error(broken).startswith(f"ktmb: error: {bad}:5: invalid YAML")
    assert "" == broken.stdout
    missing = ktmb("scan", tmp_path / "nowhere", home=tmp_path)
    assert 2 == missing.returncode
    assert f"{tmp_path / 'nowhere'}: no such file or directory" in _one_line_error(missing)


def test_planted_secrets_never_reach_the_scan_output(tmp_path: Path) -> None:
    """The literal credentials of the fixtures are in no output of a scan, in any format."""
    texts = []
    for fmt in ("json", "sarif", "markdown"):
        done = ktmb("--log-level", "DEBUG", "--log-json", "scan", MANIFESTS,
                    PLANTED / "planted.yaml", "--architecture", NOTES, "--architecture",
                    PLANTED / "NOTES.md", "--format", fmt, home=tmp_path)
        assert 0 == done.returncode, done.stderr
        assert '"event": "scan_done"' in done.stderr  # the logs were written, and checked
        texts.append(done.stdout + done.stderr)
    assert [] == [s for s in PLANTED_SECRETS if any(s in text for text in texts)]


def test_diff_of_two_scanned_versions(tmp_path: Path) -> None:
    """``ktmb diff OLD.json NEW.json``: fixing the API's image tag resolves its finding."""
    fixed = tmp_path / "v2"
    shutil.copytree(MANIFESTS, fixed)
    api = fixed / "10-api.yaml"
    api.write_text(api.read_text(encoding="utf-8").replace(
        "payments/api:latest", "payments/api@sha256:" + "a" * 64), encoding="utf-8")
    old, new = tmp_path / "v1.json", tmp_path / "v2.json"
    for source, out in ((MANIFESTS, old), (fixed, new)):
        done = ktmb("scan", source, "--app", "payments", "--out", out, home=tmp_path)
        assert 0 == done.returncode, done.stderr
    diff = ktmb("diff", old, new, "--json", home=tmp_path)
    assert 0 == diff.returncode, diff.stderr
    result = json.loads(diff.stdout)
    resolved = [f["id"] for f in result["resolved"]]
    assert resolved and all("payments-api" in r for r in resolved)
    assert any("image" in r or "latest" in r or "digest" in r for r in resolved), resolved
    assert 0 == result["counts"]["new"]
    assert result["counts"]["unchanged"] > 10
    text = ktmb("diff", old, new, home=tmp_path)
    assert 0 == text.returncode and "resolved" in text.stdout.lower()


def test_diff_refuses_a_file_that_is_not_a_model(tmp_path: Path) -> None:
    """A JSON file that is not a threat model is one line naming it, exit 2."""
    other = tmp_path / "other.json"
    other.write_text('{"hello": "world"}', encoding="utf-8")
    done = ktmb("diff", other, other, home=tmp_path)
    assert 2 == done.returncode
    assert f"ktmb: error: {other}: not a ktmb threat model (" in _one_line_error(done)


def test_version_and_scan_help(tmp_path: Path) -> None:
    """``--version`` needs no command; ``scan --help`` documents the exit codes."""
    version = ktmb("--version", home=tmp_path)
    assert (0, f"ktmb {__version__}") == (version.returncode, version.stdout.strip())
    helped = ktmb("scan", "--help", home=tmp_path)
    assert 0 == helped.returncode
    text = " ".join(helped.stdout.split())  # wrapped to the terminal's width
    assert "--fail-on" in text and "5 findings at or above --fail-on" in text
    listed = ktmb("--help", home=tmp_path)
    assert 0 == listed.returncode and "Rules and reviewer only" in listed.stdout


def test_global_options_before_scan(tmp_path: Path) -> None:
    """``ktmb --log-level ERROR scan ...``: the global options, then the scan's own."""
    bad = ktmb("--log-json", "scan", MANIFESTS, "--bogus", home=tmp_path)
    assert 2 == bad.returncode
    assert "no such option: --bogus" in bad.stderr and "" == bad.stdout
    failing = ktmb("--log-level", "ERROR", "scan", MANIFESTS, "--fail-on", "high",
                   "--out", tmp_path / "m.json", home=tmp_path)
    assert 5 == failing.returncode, failing.stderr
    assert json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))["findings"]


def _on_a_terminal(*args: str | Path, home: Path) -> tuple[int, str]:
    """``ktmb ARGS`` with its standard output on a pseudo-terminal: exit code and output."""
    main, terminal = pty.openpty()
    env = {**os.environ, "KTMB_HOME": str(home), "KTMB_EMBEDDINGS": "off"}
    env.pop("KTMB_DATABASE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "workflow", *map(str, args)], cwd=REPO,
                               env=env, stdout=terminal, stderr=subprocess.DEVNULL)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the terminal's last writer has gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    return process.wait(timeout=120), b"".join(chunks).decode().replace("\r\n", "\n")


def test_scan_on_a_terminal_prints_the_summary_table(tmp_path: Path) -> None:
    """On a terminal the default output is the table, with what fails --fail-on."""
    code, output = _on_a_terminal("scan", MANIFESTS, "--fail-on", "high", home=tmp_path)
    assert 5 == code
    lines = output.splitlines()
    assert lines[0].startswith("threat model of payments: ")
    assert lines[2].split()[:5] == ["FAIL-ON", "SEVERITY", "RULE", "FINDINGS", "WHERE"]
    assert any(line.startswith("fail     critical  ") for line in lines)
    assert lines[-1].startswith("--fail-on high: FAILED: ")
    code, output = _on_a_terminal("scan", MANIFESTS, "--format", "json", home=tmp_path)
    assert (0, "payments") == (code, json.loads(output)["application"]["name"])
