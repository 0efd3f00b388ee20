"""Knowledge-base access inside runs: a run retrieves and cites as its principal, no one else.

Red and blue each ingest a document (``ktmb kb ingest --group``) written to match every phase's
retrieval query. A run started as a blue principal, with a fake Ollama that cites every passage
it is shown plus red's and blue's chunk ids, must show blue's passage in its prompts and cite it,
and never show or cite red's; and the other way round. A run whose creator has no groups acts
for that creator alone, not for the groups of the process that executes it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.unit.llm.llm_support import FakeOllamaServer, ollama_chat_response
from workflow.db import open_database
from workflow.domain.inputs import load_inputs
from workflow.domain.run import LlmOptions, LlmProvider, RunOptions
from workflow.domain.settings import Settings
from workflow.run_setup import RunSetup
from workflow.runs import Runs

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MANIFESTS = str(REPO / "examples" / "payments" / "manifests")
_PASSAGE = re.compile(r'<passage id="([^"]+)"')
_RESOURCE = re.compile(r"^- ([A-Za-z]+/[^:\s]+):", re.MULTILINE)


@dataclass(frozen=True)
class TeamDocument:
    """A document ingested for one group: its collection, unique phrase and chunk id."""

    group: str
    collection: str
    phrase: str
    chunk_id: str


def _ktmb(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workflow", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)


def _as(env: dict[str, str], user: str, groups: str) -> dict[str, str]:
    return {**env, "KTMB_USER": user, "KTMB_GROUPS": groups}


def _ingest(env: dict[str, str], tmp_path: Path, group: str, user: str) -> TeamDocument:
    """Ingest a runbook for ``group`` whose words match every phase's retrieval query."""
    phrase = f"{group}word{uuid.uuid4().hex[:8]}"
    collection = f"{group}-runbook-{uuid.uuid4().hex[:6]}"
    path = tmp_path / f"{group}-runbook.md"
    path.write_text(
        f"# The {group} team's runbook\n\n## Kubernetes threats and mitigations\n\n"
        f"Kubernetes architecture, identity, data, logging, network, controls, compliance and "
        f"risk review threats and mitigations for this application: {phrase}. Privileged "
        f"containers, service accounts, secrets, audit logging, network policies, exposure.\n",
        encoding="utf-8")
    me = _as(env, user, group)
    added = _ktmb(me, "kb", "ingest", str(path), "--collection", collection, "--group", group)
    assert 0 == added.returncode, added.stderr
    found = _ktmb(me, "kb", "search", phrase, "--collection", collection)
    assert 0 == found.returncode, found.stderr
    chunk = re.search(r"\| chunk (\S+) \|", found.stdout)
    assert chunk is not None, found.stdout
    return TeamDocument(group=group, collection=collection, phrase=phrase,
                        chunk_id=chunk.group(1))


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    """The CLI environment with keyword search only (the embedder is not under test)."""
    return {**cli_env, "KTMB_EMBEDDINGS": "off"}


@pytest.fixture
def teams(env: dict[str, str], tmp_path: Path) -> dict[str, TeamDocument]:
    """A red document (read by group red) and a blue one (read by group blue)."""
    return {"red": _ingest(env, tmp_path, "red", "rita"),
            "blue": _ingest(env, tmp_path, "blue", "bob")}


@pytest.fixture
def model(teams: dict[str, TeamDocument]) -> Iterator[FakeOllamaServer]:
    """A fake Ollama whose threats cite what it was shown and both teams' chunk ids."""
    every_team = [doc.chunk_id for doc in teams.values()]

    def answer(request: dict[str, Any]) -> bytes:
        prompt = "\n".join(m.get("content", "") for m in request.get("messages") or [])
        shown = _PASSAGE.findall(prompt)
        resources = _RESOURCE.findall(prompt)[:1]
        threats = [{
            "title": "Attacker abuses what the runbook warns about",
            "description": "An attacker follows the weakness the team's runbook describes.",
            "stride": ["tampering"], "resources": resources, "likelihood": 3, "impact": 3,
            "rationale": "The runbook says so.", "recommendation": "Apply the runbook.",
            "citations": [*shown, *every_team]}] if resources else []
        content = json.dumps({"threats": threats, "recommendations": []})
        return ollama_chat_response(content).content

    with FakeOllamaServer(answer) as server:
        yield server


def _run_as(env: dict[str, str], model: FakeOllamaServer, user: str,
            groups: str) -> dict[str, Any]:
    """Run the example as ``user`` of ``groups`` with the fake model; the threat model."""
    me = {**_as(env, user, groups), "OLLAMA_HOST": f"http://127.0.0.1:{model.port}"}
    started = _ktmb(me, "run", MANIFESTS, "--app", "payments", "--llm", "ollama",
                    "--model", "phi4-mini")
    assert 0 == started.returncode, started.stderr[-3000:]
    shown = _ktmb(me, "show", started.stdout.split()[0])
    assert 0 == shown.returncode, shown.stderr
    result: dict[str, Any] = json.loads(shown.stdout)
    return result


def _cited_collections(threat_model: dict[str, Any]) -> set[str]:
    return {c["collection"] for f in threat_model["findings"] for c in f.get("citations", [])}


def _cited_chunks(threat_model: dict[str, Any]) -> set[str]:
    return {c["chunk_id"] for f in threat_model["findings"] for c in f.get("citations", [])}


@pytest.mark.parametrize(("user", "mine", "theirs"), [("bob", "blue", "red"),
                                                      ("rita", "red", "blue")])
def test_a_run_retrieves_and_cites_its_groups_documents_only(
        env: dict[str, str], teams: dict[str, TeamDocument], model: FakeOllamaServer,
        user: str, mine: str, theirs: str) -> None:
    """The run's prompts show and its model cites its group's passage, never the other's."""
    threat_model = _run_as(env, model, user, mine)
    prompts = "\n".join(model.prompts)
    assert model.prompts, "the model was never asked"
    assert teams[mine].phrase in prompts
    assert teams[theirs].phrase not in prompts
    assert teams[theirs].chunk_id not in _PASSAGE.findall(prompts)
    assert teams[mine].collection in _cited_collections(threat_model)
    assert teams[mine].chunk_id in _cited_chunks(threat_model)
    assert teams[theirs].collection not in _cited_collections(threat_model)
    assert teams[theirs].chunk_id not in _cited_chunks(threat_model)


def test_a_run_without_groups_does_not_borrow_the_processs_groups(
        teams: dict[str, TeamDocument], model: FakeOllamaServer, settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of a creator without groups, executed by a process of group red, sees no red."""
    red_process = settings.model_copy(update={"user": "rita", "groups": ("red",)})
    monkeypatch.setenv("OLLAMA_HOST", f"http://127.0.0.1:{model.port}")
    monkeypatch.setenv("KTMB_EMBEDDINGS", "off")
    db = open_database(red_process)
    runs = Runs(db, RunSetup(red_process, db))
    outcome = runs.start(
        load_inputs([MANIFESTS], settings=red_process), application="payments",
        approval=[], created_by="carol", owner_groups=[],
        options=RunOptions(llm=LlmOptions(provider=LlmProvider.OLLAMA, model="phi4-mini")))
    prompts = "\n".join(model.prompts)
    assert model.prompts, "the model was never asked"
    assert _PASSAGE.findall(prompts), "the built-in passages, readable by all, were shown"
    assert teams["red"].phrase not in prompts
    assert teams["blue"].phrase not in prompts
    cited = _cited_collections(runs.threat_model(outcome.run_id).model_dump(mode="json"))
    assert set() == cited & {teams["red"].collection, teams["blue"].collection}
