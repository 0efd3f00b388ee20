"""``--rules`` and ``--skip-rules`` through ``ktmb run`` (graph, gates, resume) and ``scan``."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from workflow.cli import app

pytestmark = pytest.mark.e2e

MANIFESTS = str(Path(__file__).resolve().parents[2] / "examples" / "payments" / "manifests")


def ktmb(env: dict[str, str], *args: str) -> Result:
    """The CLI in process, embeddings off (retrieval is not what these test)."""
    return CliRunner().invoke(app, list(args), env={"KTMB_EMBEDDINGS": "off", **env},
                              catch_exceptions=False)


def _selected(rules: set[str]) -> bool:
    return all(fnmatchcase(r, "controls.*") or r == "identity.automount-with-rights" for r in rules)


def test_run_carries_the_selection_across_a_gate(cli_env: dict[str, str]) -> None:
    """The selection is a run option: the phases after an approval (a resume) honour it too."""
    started = ktmb(cli_env, "run", MANIFESTS, "--approval", "identity",
                   "--rules", "controls.*,identity.automount-with-rights",
                   "--skip-rules", "controls.privileged-container")
    assert 3 == started.exit_code, started.stderr
    run_id = started.stdout.strip().splitlines()[0]
    approved = ktmb(cli_env, "approve", run_id)
    assert 0 == approved.exit_code, approved.stderr
    model = json.loads(ktmb(cli_env, "show", run_id).stdout)
    rules = {f["rule"] for f in model["findings"]}
    assert {"identity.automount-with-rights", "controls.run-as-root"} <= rules
    assert _selected(rules)
    assert "controls.privileged-container" not in rules
    assert [None] == [d["phase"] for d in model["degradations"] if d["component"] == "rules"]
    options = json.loads(ktmb(cli_env, "runs", "--json").stdout)[0]["options"]
    assert ["controls.*", "identity.automount-with-rights"] == options["rules"]
    assert ["controls.privileged-container"] == options["skip_rules"]


def test_scan_selects_rules(tmp_path: Path) -> None:
    """``scan --rules`` gives the selected rules' findings only."""
    out = tmp_path / "model.json"
    done = ktmb({"KTMB_HOME": str(tmp_path)}, "scan", MANIFESTS, "--rules", "controls.*",
                "--rules", "identity.automount-with-rights", "--out", str(out))
    assert 0 == done.exit_code, done.stderr
    rules = {f["rule"] for f in json.loads(out.read_text(encoding="utf-8"))["findings"]}
    assert "identity.automount-with-rights" in rules
    assert _selected(rules)


@pytest.mark.parametrize("command", ["run", "scan"])
@pytest.mark.parametrize(("args", "message"), [
    (["--rules", "controls.no-such-rule"],
     "ktmb: error: --rules: no rule matches 'controls.no-such-rule'; did you mean "),
    (["--skip-rules", "bogus*"],
     "ktmb: error: --skip-rules: no rule matches 'bogus*'; the rule ids are in docs/RULES.md"),
])
def test_a_pattern_matching_nothing_is_one_line_exit_2(
        cli_env: dict[str, str], command: str, args: list[str], message: str) -> None:
    """Before anything is read or created: one line, exit 2, no run in the database."""
    done = ktmb(cli_env, command, MANIFESTS, *args)
    assert 2 == done.exit_code
    lines = done.stderr.strip().splitlines()
    assert 1 == len(lines), done.stderr
    assert lines[0].startswith(message)
    assert "" == done.stdout
    assert [] == json.loads(ktmb(cli_env, "runs", "--json").stdout)
