"""Probes of regeneration on change: ``ktmb run --since`` and ``ktmb watch``.

Before: every run treated the application as new (neither the option nor the command existed),
so a cron job re-ran unchanged applications and printed whole models, not what changed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.security.cli_process import EXAMPLE, ktmb
from tests.unit.llm.llm_support import FakeOllamaServer, ollama_chat_response

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

PRIVILEGED = "controls.privileged-container@StatefulSet/payments/payments-db#postgres"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A copy of the example application's manifests."""
    copy = tmp_path / "payments"
    shutil.copytree(EXAMPLE / "manifests", copy)
    return copy


def _privileged_db(app: Path) -> None:
    """Make the database container privileged (a new finding)."""
    path = app / "20-db.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("        - name: postgres\n",
                                 "        - name: postgres\n"
                                 "          securityContext: {privileged: true}\n", 1),
                    encoding="utf-8")


def _new_findings(diff: str) -> list[str]:
    """The ids of the findings a diff's text lists as new (its "New:" section)."""
    lines = diff.splitlines()
    if "New:" not in lines:
        return []
    section = lines[lines.index("New:") + 1:]
    return [line.rsplit("(", 1)[1].rstrip(")")
            for line in section[:section.index("") if "" in section else None]]


def _run_ids(env: dict[str, str]) -> list[str]:
    listed = ktmb(env, "runs", "--app", "payments")
    assert 0 == listed.returncode, listed.stderr
    return [line.split()[0] for line in listed.stdout.splitlines()]


def test_run_since_an_unchanged_application_starts_no_run(cli_env: dict[str, str],
                                                          app: Path) -> None:
    """Nothing changed: no run, the earlier run's id on stdout, one line saying so."""
    first = ktmb(cli_env, "run", app)
    assert 0 == first.returncode, first.stderr
    run_id = first.stdout.split()[0]
    again = ktmb(cli_env, "run", app, "--since", run_id)
    assert (0, f"{run_id}\n", f"nothing changed since {run_id}: no new run\n") == (
        again.returncode, again.stdout, again.stderr)
    assert [run_id] == _run_ids(cli_env)


def test_run_since_after_a_change_prints_what_changed_and_only_the_differences(
        cli_env: dict[str, str], app: Path) -> None:
    """A changed manifest: the change is named, and the new finding is all the diff shows."""
    first = ktmb(cli_env, "run", app)
    assert 0 == first.returncode, first.stderr
    run_id = first.stdout.split()[0]
    _privileged_db(app)
    again = ktmb(cli_env, "run", app, "--since", run_id)
    assert 0 == again.returncode, again.stderr
    new_id = again.stdout.split()[0]
    assert f"since {run_id}: manifest changed: {app}/20-db.yaml" in again.stderr.splitlines()
    diff = again.stdout.splitlines()
    assert f"ktmb diff {run_id} -> {new_id}" == diff[1]
    assert [PRIVILEGED] == _new_findings(again.stdout)


def test_run_since_after_the_knowledge_base_changed_runs_again(
        cli_env: dict[str, str], app: Path, tmp_path: Path) -> None:
    """A document added to a collection the user reads counts as a change."""
    cli_env = {**cli_env, "KTMB_GROUPS": "team"}
    first = ktmb(cli_env, "run", app)
    assert 0 == first.returncode, first.stderr
    run_id = first.stdout.split()[0]
    doc = tmp_path / "runbook.md"
    doc.write_text("# Runbook\n\nRotate the payments database password monthly.\n",
                   encoding="utf-8")
    ingested = ktmb(cli_env, "kb", "ingest", doc, "--collection", "team")
    assert 0 == ingested.returncode, ingested.stderr
    again = ktmb(cli_env, "run", app, "--since", run_id)
    assert 0 == again.returncode, again.stderr
    assert f"since {run_id}: knowledge base changed" in again.stderr.splitlines()


def test_watch_runs_first_then_only_when_something_changed(cli_env: dict[str, str],
                                                           app: Path) -> None:
    """watch: a first run, nothing on an unchanged look, a run and its diff after a change."""
    first = ktmb(cli_env, "watch", app, "--polls", "1")
    assert 0 == first.returncode, first.stderr
    assert "payments: first run" in first.stderr.splitlines()
    assert 1 == len(_run_ids(cli_env))
    unchanged = ktmb(cli_env, "watch", app, "--polls", "1")
    assert (0, "") == (unchanged.returncode, unchanged.stdout), unchanged.stderr
    assert 1 == len(_run_ids(cli_env))
    _privileged_db(app)
    changed = ktmb(cli_env, "watch", app, "--polls", "1")
    assert 0 == changed.returncode, changed.stderr
    assert f"payments: manifest changed: {app}/20-db.yaml" in changed.stderr.splitlines()
    assert [PRIVILEGED] == _new_findings(changed.stdout)
    assert 2 == len(_run_ids(cli_env))


def _chat_calls(model: FakeOllamaServer) -> int:
    return sum(path.endswith("/api/chat") for path in model.paths)


def test_an_unchanged_application_asks_the_model_nothing(cli_env: dict[str, str],
                                                         app: Path) -> None:
    """Unchanged inputs: every answer comes from the cache; a change asks again only some."""
    answer = ollama_chat_response(json.dumps({"threats": [], "recommendations": []})).content
    with FakeOllamaServer(answer) as model:
        env = {**cli_env, "OLLAMA_HOST": f"http://127.0.0.1:{model.port}"}
        llm = ("--llm", "ollama", "--model", "phi4-mini")
        first = ktmb(env, "run", app, *llm)
        assert 0 == first.returncode, first.stderr
        asked = _chat_calls(model)
        assert asked > 0
        again = ktmb(env, "run", app, *llm)
        assert 0 == again.returncode, again.stderr
        assert asked == _chat_calls(model)
        _privileged_db(app)
        changed = ktmb(env, "run", app, *llm, "--since", again.stdout.split()[0])
        assert 0 == changed.returncode, changed.stderr
        assert 0 < _chat_calls(model) - asked < asked
