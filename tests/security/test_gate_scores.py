"""A reviewer approves what will be published: the gate shows the reviewer's scores.

sock-shop's node-exporter DaemonSet shares the host PID namespace: the rule scores it medium 4.8
(likelihood 4, impact 3) and the reviewer publishes it high 6.4 (impact +1, a DaemonSet's blast
radius is the cluster). The gate used to show the rule's 4.8.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, corpus_app
from workflow.db import open_database
from workflow.domain.inputs import load_inputs
from workflow.domain.run import Decision
from workflow.domain.settings import Settings
from workflow.runs import Runs

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.corpus]

HOST_PID = "controls.host-pid@DaemonSet/monitoring/node-exporter"


def _ktmb(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workflow", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)


def test_the_gate_shows_the_published_band_and_score(cli_env: dict[str, str]) -> None:
    """At the controls gate, node-exporter's host-pid finding is high 6.4, as published."""
    app = corpus_app("sock-shop")
    env = {**cli_env, "KTMB_EMBEDDINGS": "off"}
    started = _ktmb(env, "run", str(app), "--app", "sock-shop", "--approval", "controls")
    assert 3 == started.returncode, started.stderr[-2000:]
    run_id = started.stdout.split()[0]
    shown = [line for line in started.stderr.splitlines() if line.endswith(f"] {HOST_PID}")]
    assert 1 == len(shown), started.stderr[-3000:]
    assert "high" in shown[0]
    assert "6.4" in shown[0]
    assert "may rise if chained into an attack path" in started.stderr

    approved = _ktmb(env, "approve", run_id, "--comment", "ok")
    assert 0 == approved.returncode, approved.stderr[-2000:]
    model = json.loads(_ktmb(env, "show", run_id).stdout)
    (published,) = [f for f in model["findings"] if f["id"] == HOST_PID]
    assert ("high", 6.4) == (published["severity"], published["score"])


def test_every_gate_score_is_the_published_one_unless_an_attack_path_raised_it(
        settings: Settings) -> None:
    """Each finding at the controls gate is published with its gate score, or a path's raise."""
    app = corpus_app("sock-shop")
    runs = Runs(open_database(settings))
    inputs = load_inputs([str(app)], settings=settings)
    outcome = runs.start(inputs, application="sock-shop", approval=["controls"])
    pending = runs.pending(outcome.run_id) or {}
    at_gate = {f["id"]: f for f in pending.get("findings", [])}
    assert HOST_PID in at_gate
    done = runs.decide(outcome.run_id, decision=Decision.APPROVED, by="tester")
    published = {f.id: f for f in runs.threat_model(done.run_id).findings}
    for fid, shown in at_gate.items():
        final = published[fid]
        raised = any(why.startswith("likelihood +1: step of attack path ")
                     for why in final.score_factors)
        if not raised:
            assert (shown["severity"], shown["score"]) == (final.severity, final.score), fid
        else:
            assert shown["score"] <= final.score, fid


def test_removing_a_finding_without_a_reason_is_refused(cli_env: dict[str, str],
                                                        tmp_path: Path) -> None:
    """An edit that removes a finding needs a reason: one line, exit 2, the run still waits."""
    env = {**cli_env, "KTMB_EMBEDDINGS": "off"}
    started = _ktmb(env, "run", str(REPO / "examples" / "payments" / "manifests"),
                    "--app", "payments", "--approval", "controls")
    assert 3 == started.returncode, started.stderr[-2000:]
    run_id = started.stdout.split()[0]
    status = json.loads(_ktmb(env, "status", run_id, "--json").stdout)
    controls = sorted(f["id"] for f in _ktmb_json(env, "show", run_id)["findings"]
                      if f["phase"] == "controls")
    edits = tmp_path / "edits.yaml"
    edits.write_text(f"edits:\n  - id: {json.dumps(controls[0])}\n    remove: true\n",
                     encoding="utf-8")
    refused = _ktmb(env, "approve", run_id, "--edits", str(edits))
    assert 2 == refused.returncode, refused.stderr[-2000:]
    assert [f"ktmb: error: finding {controls[0]!r}: removing a finding needs a reason "
            "(reason: why it does not apply); it is kept with the approval"] == (
        refused.stderr.splitlines())
    assert "awaiting_approval" == status["status"]
    assert status == json.loads(_ktmb(env, "status", run_id, "--json").stdout)


def _ktmb_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    shown = _ktmb(env, *args)
    assert 0 == shown.returncode, shown.stderr[-2000:]
    value: dict[str, Any] = json.loads(shown.stdout)
    return value
