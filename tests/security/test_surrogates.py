"""A lone surrogate (invalid Unicode) anywhere in a request is a clear 4xx, never a 500."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.security.probes import ALICE, assert_clean_error, auth

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "payments" / "manifests"
JSON = {**auth(ALICE), "Content-Type": "application/json"}


def _waiting_run(client: TestClient) -> str:
    """A run of the example waiting for approval of its first phase."""
    files = [("manifests", (p.name, p.read_bytes(), "application/yaml"))
             for p in sorted(EXAMPLE.glob("*.yaml"))]
    response = client.post("/runs", headers=auth(ALICE), files=files,
                           data={"approval": "architecture"})
    assert 202 == response.status_code, response.text
    run_id = str(response.json()["run_id"])
    deadline = time.monotonic() + 90
    while True:
        status = client.get(f"/runs/{run_id}", headers=auth(ALICE)).json()
        if status["status"] == "awaiting_approval" and not status["busy"]:
            return run_id
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


@pytest.mark.parametrize("body", [
    rb'{"paths": ["APP/\ud800.yaml"]}',
    rb'{"paths": ["APP"], "application": "pay\ud800ments"}',
    rb'{"paths": ["APP"], "architecture": ["APP/\udc80.md"]}',
    rb'{"paths": ["APP"], "owner_groups": ["\udfff"]}',
    rb'{"paths": ["APP"], "approval": "architecture\ud800"}',
    rb'{"paths": ["APP"], "\ud800": 1}',
])
def test_lone_surrogate_in_a_start_body(make_client: Callable[..., TestClient], tmp_path: Path,
                                        body: bytes) -> None:
    """A lone surrogate in the JSON of POST /runs/from-path is a one-line 4xx."""
    app = tmp_path / "app"
    app.mkdir()
    for manifest in EXAMPLE.glob("*.yaml"):
        (app / manifest.name).write_bytes(manifest.read_bytes())
    client = make_client(server_paths=(tmp_path,))
    response = client.post("/runs/from-path", headers=JSON,
                           content=body.replace(b"APP", str(app).encode()))
    assert 400 <= response.status_code < 500, response.text
    assert "lone surrogate" in assert_clean_error(response, 422)["detail"]


def test_lone_surrogate_in_decisions(make_client: Callable[..., TestClient]) -> None:
    """Lone surrogates in a rejection reason, a comment or an edit are 4xx; the run waits on."""
    client = make_client()
    run_id = _waiting_run(client)
    for path, body in (
            (f"/runs/{run_id}/reject", rb'{"reason": "no\ud800"}'),
            (f"/runs/{run_id}/approve", rb'{"comment": "\udc80ok"}'),
            (f"/runs/{run_id}/approve",
             rb'{"edits": {"edits": [{"id": "x\ud800", "severity": "low"}]}}'),
            (f"/runs/{run_id}/approve",
             rb'{"edits": [{"id": "a", "note": "\ud83d"}]}')):
        response = client.post(path, headers=JSON, content=body)
        assert 400 <= response.status_code < 500, (path, body, response.text)
        assert "lone surrogate" in assert_clean_error(response, 422)["detail"]
    status = client.get(f"/runs/{run_id}", headers=auth(ALICE)).json()
    assert ("awaiting_approval", []) == (status["status"], status["approvals"])


@pytest.mark.parametrize("target", [
    "/runs/%ED%A0%80",
    "/runs/%ED%A0%80/pending",
    "/runs?application=%ED%A0%80",
    "/diff?old=%ED%A0%80&new=%ED%B0%80",
    "/runs/x/export?format=%ED%A0%80",
])
def test_lone_surrogate_in_query_and_path(make_client: Callable[..., TestClient],
                                          target: str) -> None:
    """A surrogate's UTF-8 form in a path or query parameter is a one-line 4xx (or an empty
    list), never a 500."""
    client = make_client()
    response = client.get(target, headers=auth(ALICE))
    if response.status_code == 200:
        assert [] == response.json()
        return
    assert 400 <= response.status_code < 500, response.text
    assert_clean_error(response, response.status_code)
