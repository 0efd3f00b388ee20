"""Probes of issue 14, "a living threat model", through the real CLI (one process per call).

Each probe failed on the code before the application profile and carried-over triage:

- a finding marked false positive at a gate was open again in the application's next run;
- architecture notes that say audit logging is disabled changed nothing: the model still asked
  whether it was enabled (notes were free text only);
- a ``ktmb.yaml`` beside the manifests was skipped as "not Kubernetes manifests" and its
  answers ignored;
- a finding accepted on the resource (``ktmb.io/accept``) still failed ``--fail-on``;
- a mistake in a profile had no file, line or key to point at.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.e2e]

EXAMPLE = REPO / "examples" / "payments"
AUDIT_QUESTION = "logging.audit-policy-question@Cluster/audit"
AUDIT_DISABLED = "logging.audit-logging-disabled@Cluster/audit"


def _ktmb(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workflow", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)


def _scan_env(tmp_path: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("KTMB_")}
    env.update({"KTMB_HOME": str(tmp_path / "home"), "KTMB_REDACTION_KEY": "test-key"})
    return env


def _findings(stdout: str) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in json.loads(stdout)["findings"]}


def test_a_false_positive_at_a_gate_stays_one_in_the_next_run(
        cli_env: dict[str, str]) -> None:
    """The decision taken at the controls gate is re-applied to the same finding next time."""
    env = {**cli_env, "KTMB_EMBEDDINGS": "off"}
    started = _ktmb(env, "run", str(EXAMPLE / "manifests"), "--approval", "controls")
    assert 3 == started.returncode, started.stderr[-2000:]
    run_id = started.stdout.split()[0]
    finding = "controls.image-mutable-tag@Deployment/payments/payments-api#api"
    edits = Path(env["KTMB_HOME"]) / "edits.yaml"
    edits.write_text(f"edits:\n  - id: {finding}\n    status: false_positive\n"
                     "    note: Tags are immutable in our registry.\n", encoding="utf-8")
    approved = _ktmb(env, "approve", run_id, "--edits", str(edits), "--by", "ann")
    assert 0 == approved.returncode, approved.stderr[-2000:]
    again = _ktmb(env, "run", str(EXAMPLE / "manifests"))
    assert 0 == again.returncode, again.stderr[-2000:]
    shown = _ktmb(env, "show", again.stdout.split()[0])
    kept = _findings(shown.stdout)[finding]
    assert ("false_positive", ["Tags are immutable in our registry."]) == (
        kept["status"], [n["text"] for n in kept["notes"]])


def test_notes_that_say_audit_logging_is_off_answer_the_question(tmp_path: Path) -> None:
    """Front matter in the notes answers the question; the answer is a finding at its line."""
    notes = tmp_path / "ARCHITECTURE.md"
    notes.write_text("---\nanswers:\n  audit_logging: disabled\n---\n"
                     + (EXAMPLE / "ARCHITECTURE.md").read_text(encoding="utf-8"),
                     encoding="utf-8")
    result = _ktmb(_scan_env(tmp_path), "scan", str(EXAMPLE / "manifests"),
                   "--architecture", str(notes))
    assert 0 == result.returncode, result.stderr[-2000:]
    found = _findings(result.stdout)
    assert AUDIT_QUESTION not in found
    assert [(str(notes), 3, "disabled")] == [
        (e["file"], e["line"], e["value"]) for e in found[AUDIT_DISABLED]["evidence"]]


def test_a_profile_beside_the_manifests_is_read(tmp_path: Path) -> None:
    """``ktmb.yaml`` in the manifest directory answers questions and names the application."""
    manifests = tmp_path / "manifests"
    shutil.copytree(EXAMPLE / "manifests", manifests)
    (manifests / "ktmb.yaml").write_text(
        "name: payments-eu\nowner: team-payments\nanswers:\n  audit_logging: enabled\n",
        encoding="utf-8")
    result = _ktmb(_scan_env(tmp_path), "scan", str(manifests))
    assert 0 == result.returncode, result.stderr[-2000:]
    model = json.loads(result.stdout)
    assert "skipped" not in result.stderr
    assert ("payments-eu", "team-payments") == (model["application"]["name"],
                                                model["application"]["profile"]["owner"])
    assert AUDIT_QUESTION not in _findings(result.stdout)


def test_an_accepted_resource_does_not_fail_the_build(tmp_path: Path) -> None:
    """A privileged container accepted by annotation stays in the model, suppressed."""
    manifest = tmp_path / "agent.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\n  namespace: ops\n"
        "  annotations:\n    ktmb.io/accept: controls.privileged-container\n"
        "    ktmb.io/accept-reason: The node agent needs the host.\n"
        "    ktmb.io/accept-owner: team-ops\n    ktmb.io/accept-expires: '2099-01-31'\n"
        "spec:\n  selector:\n    matchLabels: {app: agent}\n  template:\n    metadata:\n"
        "      labels: {app: agent}\n    spec:\n      containers:\n      - name: agent\n"
        "        image: registry.example.com/agent:1.0@sha256:" + "a" * 64 + "\n"
        "        securityContext:\n          privileged: true\n", encoding="utf-8")
    result = _ktmb(_scan_env(tmp_path), "scan", str(manifest), "--fail-on", "high")
    assert 0 == result.returncode, result.stderr[-2000:]
    privileged = _findings(result.stdout)["controls.privileged-container@DaemonSet/ops/agent#agent"]
    assert ("accepted", "annotation", "team-ops") == (
        privileged["status"], privileged["triage"]["source"], privileged["triage"]["owner"])


def test_a_mistake_in_the_profile_is_one_line_with_file_line_and_key(tmp_path: Path) -> None:
    """A wrong answer is refused with exit 2 and one line: file, line, key and problem."""
    profile = tmp_path / "ktmb.yaml"
    profile.write_text("owner: team-payments\nanswers:\n  audit_logging: maybe\n",
                       encoding="utf-8")
    result = _ktmb(_scan_env(tmp_path), "scan", str(EXAMPLE / "manifests"), "--profile",
                   str(profile))
    assert 2 == result.returncode
    assert [f"ktmb: error: {profile}:3: answers.audit_logging: must be one of enabled, "
            "disabled, got 'maybe'"] == result.stderr.strip().splitlines()
