"""The ``ktmb`` command line end to end (typer CliRunner, real database, no model)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import psycopg
import pytest
from typer.testing import CliRunner, Result

from workflow.cli import app

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "payments"
MANIFESTS = str(EXAMPLE / "manifests")
NOTES = str(EXAMPLE / "ARCHITECTURE.md")
PLANTED_DIR = REPO / "tests" / "fixtures" / "redaction"
SCHEMA = json.loads(
    (REPO / "workflow" / "domain" / "threat_model.schema.json").read_text(encoding="utf-8"))
EXAMPLE_SECRETS = ("Sup3r-S3cret-Passw0rd!", "an0ther-Planted-Secret")
FIXTURE_SECRETS = (
    "UGxhbnRlZC1CYXNlNjQtUHc=", "Applied-Planted-Tok5", "String-Planted-Data6",
    "Arg-Planted-Pw1", "Arg-Planted-Tok2", "Env-Planted-Pw7", "Env-Planted-Tok8",
    "AKIAPLANTEDKEY000001", "eyJzdWIiOiJwbGFudGVkIn0", "MIIEpPlantedPrivateKeyBody9",
    "Url-Planted-Pass10", "Cm-Planted-Pw3", "Cm-Planted-Key11", "Cm-Planted-Props12",
    "Notes-Planted-Pw4", "AKIANOTESPLANTED0002", "Notes-Url-Pass13")


def ktmb(env: dict[str, str], *args: str) -> Result:
    """Invoke the CLI in-process with the test environment.

    The knowledge base's embedder is switched off: loading MiniLM and embedding the built-in
    corpus into every fresh test database takes about a minute and is not what these test.
    """
    return CliRunner().invoke(app, list(args), env={"KTMB_EMBEDDINGS": "off", **env},
                              catch_exceptions=False)


def _one_line_error(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert 1 == len(lines), result.stderr
    assert lines[0].startswith("ktmb: error: ")
    return lines[0]


def _run_id(result: Result) -> str:
    return result.stdout.strip().splitlines()[0]


def _schema_errors(model: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(model)]


def _status(env: dict[str, str], run_id: str) -> dict[str, Any]:
    result = ktmb(env, "status", run_id, "--json")
    assert 0 == result.exit_code, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _leaks(text: str, secrets: tuple[str, ...]) -> list[str]:
    return [s for s in secrets if s in text]


# ---- run ---------------------------------------------------------------------------------------
def test_run_writes_a_valid_model(cli_env: dict[str, str], tmp_path: Path) -> None:
    """``ktmb run`` exits 0, prints the run id and writes JSON that validates."""
    out = tmp_path / "model.json"
    result = ktmb(cli_env, "run", MANIFESTS, "--architecture", NOTES, "--out", str(out))
    assert 0 == result.exit_code, result.stderr
    run_id = _run_id(result)
    assert run_id.startswith("payments-")
    model = json.loads(out.read_text(encoding="utf-8"))
    assert [] == _schema_errors(model)
    assert (run_id, "payments", False) == (model["run_id"], model["application"]["name"],
                                            model["partial"])
    assert "completed" == _status(cli_env, run_id)["status"]
    assert f"threat model of payments: {model['summary']['total']} findings" in result.stderr


def test_paths_of_a_stored_run_as_if_a_finding_were_fixed(cli_env: dict[str, str]) -> None:
    """``ktmb paths RUN_ID --without`` reads the stored model's graph and recomputes: with
    the LoadBalancer fixed, the internet still gets in, through the admin Ingress."""
    run_id = _run_id(ktmb(cli_env, "run", MANIFESTS, "--app", "payments"))
    fixed = "network.loadbalancer-service@Service/payments/payments-api"
    result = ktmb(cli_env, "paths", run_id, "--from", "internet", "--without", fixed,
                  "--json")
    assert 0 == result.exit_code, result.stderr
    report = json.loads(result.stdout)
    assert (2, 2, []) == (report["before"], report["total"], report["removed"])
    assert [["Ingress/payments/payments-admin"]] * 2 == [
        [h["to"] for h in p["hops"]][:1] for p in report["paths"]]
    graph = ktmb(cli_env, "show", run_id, "--format", "graphml")
    assert 0 == graph.exit_code and "<graphml" in graph.stdout


def test_run_with_app_name_and_show(cli_env: dict[str, str]) -> None:
    """``--app`` names the application; ``show`` prints the stored model as JSON."""
    result = ktmb(cli_env, "run", MANIFESTS, "--app", "payments")
    assert 0 == result.exit_code, result.stderr
    run_id = _run_id(result)
    shown = ktmb(cli_env, "show", run_id)
    assert 0 == shown.exit_code, shown.stderr
    model = json.loads(shown.stdout)
    assert ("payments", run_id) == (model["application"]["name"], model["run_id"])
    assert [] == _schema_errors(model)
    exported = ktmb(cli_env, "export", run_id, "--format", "json")
    assert model["findings"] == json.loads(exported.stdout)["findings"]


def test_runs_lists_runs_as_json(cli_env: dict[str, str]) -> None:
    """``runs --json`` lists runs, newest first, filtered by ``--app``."""
    first = _run_id(ktmb(cli_env, "run", MANIFESTS, "--app", "alpha"))
    second = _run_id(ktmb(cli_env, "run", MANIFESTS, "--app", "alpha"))
    ktmb(cli_env, "run", MANIFESTS, "--app", "beta")
    result = ktmb(cli_env, "runs", "--app", "alpha", "--json")
    assert 0 == result.exit_code, result.stderr
    listed = json.loads(result.stdout)
    assert [(second, "completed"), (first, "completed")] == [
        (r["run_id"], r["status"]) for r in listed]


def test_standard_input(cli_env: dict[str, str]) -> None:
    """``ktmb run -`` reads manifests from standard input."""
    text = (EXAMPLE / "manifests" / "10-api.yaml").read_text(encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "-"], input=text,
                                env={"KTMB_EMBEDDINGS": "off", **cli_env},
                                catch_exceptions=False)
    assert 0 == result.exit_code, result.stderr
    assert _run_id(result).startswith("stdin-")


# ---- approvals ---------------------------------------------------------------------------------
def test_approval_each_stops_at_the_first_gate(cli_env: dict[str, str]) -> None:
    """``--approval each`` exits 3 and shows the architecture phase's findings."""
    result = ktmb(cli_env, "run", MANIFESTS, "--approval", "each")
    assert 3 == result.exit_code, result.stderr
    run_id = _run_id(result)
    assert f"run {run_id} is waiting for approval of the architecture phase" in result.stderr
    assert f"approve: ktmb approve {run_id}" in result.stderr
    partial = json.loads(ktmb(cli_env, "show", run_id).stdout)
    shown = [f["id"] for f in partial["findings"] if f["phase"] == "architecture"]
    assert [] == [fid for fid in shown if fid not in result.stderr]
    if not shown:
        assert "(no findings in this phase)" in result.stderr
    status = _status(cli_env, run_id)
    assert ("awaiting_approval", "architecture") == (status["status"], status["pending_phase"])
    assert partial["partial"]


def test_approve_reject_rerun_and_edits(cli_env: dict[str, str], tmp_path: Path) -> None:
    """Reject exits 4; rerun --from redoes the phase; approve with edits completes (exit 0)."""
    result = ktmb(cli_env, "run", MANIFESTS, "--approval", "controls")
    assert 3 == result.exit_code, result.stderr
    run_id = _run_id(result)

    rejected = ktmb(cli_env, "reject", run_id, "--reason", "Look at the CronJob again.",
                    "--by", "bob")
    assert 4 == rejected.exit_code, rejected.stderr
    assert f"redo it with: ktmb rerun {run_id} --from controls" in rejected.stderr
    assert "rejected" == _status(cli_env, run_id)["status"]
    refused = ktmb(cli_env, "resume", run_id)
    assert 2 == refused.exit_code
    assert "was rejected at controls" in _one_line_error(refused)

    again = ktmb(cli_env, "rerun", run_id, "--from", "controls")
    assert 3 == again.exit_code, again.stderr
    partial = json.loads(ktmb(cli_env, "show", run_id).stdout)
    controls = sorted(f["id"] for f in partial["findings"] if f["phase"] == "controls")
    assert controls, "the example application must have controls findings"
    assert "Look at the CronJob again." == partial["phases"]["controls"]["guidance"]

    edits = tmp_path / "edits.yaml"
    edits.write_text("edits:\n"
                     f"  - id: {json.dumps(controls[0])}\n    remove: true\n"
                     "    reason: Covered by the platform's threat model.\n"
                     f"  - id: {json.dumps(controls[1])}\n    severity: low\n"
                     "    status: accepted\n    note: Accepted for the pilot.\n"
                     "    owner: team-payments\n    reason: Pilot only.\n"
                     "    expires: 2099-06-30\n",
                     encoding="utf-8")
    approved = ktmb(cli_env, "approve", run_id, "--comment", "ok now", "--edits", str(edits),
                    "--by", "ann")
    assert 0 == approved.exit_code, approved.stderr
    model = json.loads(ktmb(cli_env, "show", run_id).stdout)
    by_id = {f["id"]: f for f in model["findings"]}
    assert controls[0] not in by_id
    assert ("low", "accepted", ["Accepted for the pilot."]) == (
        by_id[controls[1]]["severity"], by_id[controls[1]]["status"],
        [n["text"] for n in by_id[controls[1]]["notes"]])
    approval = model["phases"]["controls"]["approval"]
    assert ("approved", "ann", "ok now") == (approval["decision"], approval["by"],
                                             approval["comment"])
    assert [] == _schema_errors(model)
    done = ktmb(cli_env, "resume", run_id)
    assert 2 == done.exit_code
    assert f"run {run_id} has already completed" in _one_line_error(done)


def test_malformed_edits_are_refused_and_the_run_waits(cli_env: dict[str, str],
                                                       tmp_path: Path) -> None:
    """A bad edits file is one stderr line, exit 2; the run is still awaiting approval."""
    run_id = _run_id(ktmb(cli_env, "run", MANIFESTS, "--approval", "network"))
    edits = tmp_path / "edits.yaml"
    edits.write_text("edits:\n  - id: no-such-finding\n    remove: true\n", encoding="utf-8")
    result = ktmb(cli_env, "approve", run_id, "--edits", str(edits))
    assert 2 == result.exit_code
    assert "no-such-finding" in _one_line_error(result)
    status = _status(cli_env, run_id)
    assert ("awaiting_approval", "network") == (status["status"], status["pending_phase"])
    approved = ktmb(cli_env, "approve", run_id)
    assert 0 == approved.exit_code, approved.stderr


def test_status_text_output(cli_env: dict[str, str]) -> None:
    """``status`` without --json lists every phase."""
    run_id = _run_id(ktmb(cli_env, "run", MANIFESTS, "--approval", "identity"))
    result = ktmb(cli_env, "status", run_id)
    assert 0 == result.exit_code
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{run_id}  payments  awaiting_approval (identity)")
    assert ["architecture", "identity", "data", "logging", "network", "controls", "compliance",
            "risk_review"] == [line.split()[0] for line in lines[1:9]]


# ---- errors ------------------------------------------------------------------------------------
def test_bad_input_is_one_line_exit_2(cli_env: dict[str, str], tmp_path: Path) -> None:
    """A binary manifest is refused in one stderr line with exit code 2."""
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    result = ktmb(cli_env, "run", str(bad))
    assert 2 == result.exit_code
    assert f"ktmb: error: {bad}: binary file, not YAML or JSON text" == _one_line_error(result)
    assert "" == result.stdout


def test_malformed_yaml_is_one_line_with_the_line(cli_env: dict[str, str],
                                                  tmp_path: Path) -> None:
    """A YAML syntax error names file:line."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n   oops: 1\n",
                   encoding="utf-8")
    result = ktmb(cli_env, "run", str(bad))
    assert 2 == result.exit_code
    assert _one_line_error(result).startswith(f"ktmb: error: {bad}:5: invalid YAML")


@pytest.mark.parametrize("command", [
    ["status", "no-such-run"], ["status", "no-such-run", "--json"], ["show", "no-such-run"],
    ["resume", "no-such-run"], ["approve", "no-such-run"],
    ["reject", "no-such-run", "--reason", "x"], ["rerun", "no-such-run", "--from", "data"],
])
def test_unknown_run_is_exit_2(cli_env: dict[str, str], command: list[str]) -> None:
    """Any command on an unknown run is one line, exit 2."""
    result = ktmb(cli_env, *command)
    assert 2 == result.exit_code
    assert "no run with id 'no-such-run'" in _one_line_error(result)


@pytest.mark.parametrize(("args", "expected"), [
    (["--approval", "bogus"], "--approval: unknown phase bogus"),
    (["--llm", "gpt"], "--llm must be one of off, ollama, llamacpp"),
])
def test_bad_options_are_exit_2(cli_env: dict[str, str], args: list[str], expected: str) -> None:
    """Bad option values are one line, exit 2."""
    result = ktmb(cli_env, "run", MANIFESTS, *args)
    assert 2 == result.exit_code
    assert expected in _one_line_error(result)


def test_rerun_unknown_phase_is_exit_2(cli_env: dict[str, str]) -> None:
    """``rerun --from`` with an unknown phase is a usage error."""
    run_id = _run_id(ktmb(cli_env, "run", MANIFESTS))
    result = ktmb(cli_env, "rerun", run_id, "--from", "nowhere")
    assert 2 == result.exit_code
    assert "unknown phase 'nowhere'" in _one_line_error(result)


def test_remote_ollama_host_is_refused(cli_env: dict[str, str]) -> None:
    """``--llm ollama`` with a public OLLAMA_HOST is refused in one line, exit 2."""
    env = {**cli_env, "OLLAMA_HOST": "http://8.8.8.8:11434"}
    result = ktmb(env, "run", MANIFESTS, "--llm", "ollama", "--model", "x")
    assert 2 == result.exit_code
    line = _one_line_error(result)
    assert "model host http://8.8.8.8:11434 is not a loopback or private address" in line
    assert "--allow-remote-model" in line


def test_unreachable_database_is_exit_2(cli_env: dict[str, str]) -> None:
    """A database that cannot be reached is one line, exit 2, password hidden."""
    env = {**cli_env, "KTMB_DATABASE_URL": "postgresql://ktmb:Db-Planted-Pw@127.0.0.1:1/ktmb"}
    result = ktmb(env, "runs")
    assert 2 == result.exit_code
    line = _one_line_error(result)
    assert "cannot connect to the database" in line
    assert "Db-Planted-Pw" not in line


def test_help_documents_exit_codes(cli_env: dict[str, str]) -> None:
    """``--help`` lists the exit codes."""
    result = ktmb(cli_env, "--help")
    assert 0 == result.exit_code
    text = " ".join(result.stdout.split())
    assert "0 completed, 1 internal error, 2 bad input or usage, 3 awaiting approval, 4 rejected" \
        in text


# ---- secrets end to end ------------------------------------------------------------------------
def _database_text(url: str) -> str:
    """Every row of the run and checkpoint tables, as text (bytea shows as hex)."""
    chunks: list[str] = []
    with psycopg.connect(url) as conn:
        for table in ("runs", "approvals", "threat_models", "checkpoints", "checkpoint_blobs",
                      "checkpoint_writes"):
            chunks.extend(str(row[0]) for row in conn.execute(
                f"SELECT t::text FROM {table} t").fetchall())
    return "\n".join(chunks)


def _hex_leaks(text: str, secrets: tuple[str, ...]) -> list[str]:
    return [s for s in secrets if s in text or s.encode().hex() in text]


@pytest.mark.parametrize(("paths", "notes", "secrets"), [
    ([MANIFESTS], NOTES, EXAMPLE_SECRETS),
    ([str(PLANTED_DIR / "planted.yaml")], str(PLANTED_DIR / "NOTES.md"), FIXTURE_SECRETS),
], ids=["example", "planted-fixture"])
def test_planted_secrets_never_leave_the_loader(cli_env: dict[str, str], tmp_path: Path,
                                                paths: list[str], notes: str,
                                                secrets: tuple[str, ...]) -> None:
    """Planted values are not in the JSON, stdout/stderr, JSON logs, or the database."""
    out = tmp_path / "model.json"
    direct = ktmb(cli_env, "--log-json", "run", *paths, "--architecture", notes, "--out",
                  str(out))
    assert 0 == direct.exit_code, direct.stderr
    result = ktmb(cli_env, "--log-json", "run", *paths, "--architecture", notes,
                  "--approval", "network")
    assert 3 == result.exit_code, result.stderr
    run_id = _run_id(result)
    approved = ktmb(cli_env, "--log-json", "approve", run_id, "--comment", "fine")
    assert 0 == approved.exit_code, approved.stderr
    shown = ktmb(cli_env, "show", run_id)
    status = ktmb(cli_env, "status", run_id, "--json")
    logs = [json.loads(line) for line in (result.stderr + approved.stderr).splitlines()
            if line.startswith("{")]
    assert {"run_id": run_id, "phase": "network"}.items() <= next(
        e for e in logs if e.get("event") == "phase_done" and e.get("phase") == "network").items()
    everything = "\n".join([direct.stdout, direct.stderr, result.stdout, result.stderr,
                            approved.stdout, approved.stderr, shown.stdout, shown.stderr,
                            status.stdout, out.read_text(encoding="utf-8")])
    assert [] == _leaks(everything, secrets)
    assert [] == _hex_leaks(_database_text(cli_env["KTMB_DATABASE_URL"]), secrets)
