"""The living threat model through the HTTP API and the web UI (TestClient, real PostgreSQL).

Profiles and suppressions uploaded with a run, triage on a finished run stored for the next
ones, baselines named by run id, and the UI's diff, report and gate views of all that.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from workflow.api import ApiSettings, create_app
from workflow.domain.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef00"
LIVING = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "living"
WEB_IMAGE = "controls.image-not-pinned@Deployment/shop/web#web"
API_IMAGE = "controls.image-not-pinned@Deployment/shop/api#api"


def auth(token: str) -> dict[str, str]:
    """The header that authenticates with an API token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(autouse=True)
def _no_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keyword search only: these tests exercise the service, not retrieval."""
    monkeypatch.setenv("KTMB_EMBEDDINGS", "off")


@pytest.fixture
def client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    """The service with two reviewers in different groups."""
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{ALICE} alice shop\n{BOB} bob marketing\n", encoding="utf-8")
    tokens.chmod(0o600)
    app = create_app(settings, api_settings=ApiSettings(tokens_file=tokens))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
        app.state.service.wait_idle(60)


def _files(version: str, *, profile: bool = True,
           suppressions: str | None = None) -> list[tuple[str, Any]]:
    folder = LIVING / version
    files: list[tuple[str, Any]] = [("manifests", (p.name, p.read_bytes(), "application/yaml"))
                                    for p in sorted(folder.glob("[0-9]*.yaml"))]
    if profile:
        files.append(("profile", ("ktmb.yaml", (folder / "ktmb.yaml").read_bytes(),
                                  "application/yaml")))
    if suppressions is not None:
        files.append(("suppressions", ("s.yaml", suppressions.encode(), "application/yaml")))
    return files


def _start(client: TestClient, version: str = "v1", **data: str) -> str:
    files = _files(version, suppressions=data.pop("suppressions", None))
    response = client.post("/runs", headers=auth(ALICE), files=files,
                           data={"approval": "none", **data})
    assert 202 == response.status_code, response.text
    run_id = str(response.json()["run_id"])
    _wait(client, run_id)
    return run_id


def _wait(client: TestClient, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        body: dict[str, Any] = client.get(f"/runs/{run_id}", headers=auth(ALICE)).json()
        if body["status"] not in {"queued", "running"} and not body["busy"]:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def _model(client: TestClient, run_id: str) -> dict[str, Any]:
    model: dict[str, Any] = client.get(f"/runs/{run_id}/export?format=json",
                                       headers=auth(ALICE)).json()
    return model


def test_an_uploaded_profile_and_suppressions_shape_the_run(client: TestClient) -> None:
    """The profile names the application and answers; the suppressions file accepts."""
    suppressions = (f"- id: {API_IMAGE}\n  owner: team-shop\n  reason: digests next sprint\n"
                    "  expires: 2099-01-31\n")
    run_id = _start(client, suppressions=suppressions)
    model = _model(client, run_id)
    assert ("shop", "team-shop") == (model["application"]["name"],
                                     model["application"]["profile"]["owner"])
    by_id = {f["id"]: f for f in model["findings"]}
    assert ("accepted", "suppressions_file") == (by_id[API_IMAGE]["status"],
                                                 by_id[API_IMAGE]["triage"]["source"])
    assert not any(f["rule"].endswith("-question") for f in model["findings"])


def test_triage_on_a_run_is_stored_for_the_next_runs(client: TestClient) -> None:
    """POST /runs/{id}/triage stores decisions; the next run applies them; others see 404."""
    first = _start(client)
    body = {"edits": {"edits": [{"id": WEB_IMAGE, "status": "accepted", "owner": "team-shop",
                                 "reason": "immutable tags", "expires": "2099-12-31"}]}}
    response = client.post(f"/runs/{first}/triage", headers=auth(ALICE), json=body)
    assert 200 == response.status_code, response.text
    assert {"run_id": first, "application": "shop", "recorded": 1} == response.json()
    listed = client.get("/applications/shop/triage", headers=auth(ALICE)).json()
    assert [(WEB_IMAGE, "accepted", "alice")] == [(d["finding"], d["status"], d["by"])
                                                  for d in listed]
    assert 404 == client.get("/applications/shop/triage", headers=auth(BOB)).status_code
    assert 404 == client.post(f"/runs/{first}/triage", headers=auth(BOB),
                              json=body).status_code
    bad = client.post(f"/runs/{first}/triage", headers=auth(ALICE), json={"edits": {"edits": [
        {"id": WEB_IMAGE, "status": "accepted"}]}})
    assert 422 == bad.status_code
    assert "an accepted risk needs an owner, a reason and an expiry date" in bad.json()["detail"]
    second = _start(client)
    found = next(f for f in _model(client, second)["findings"] if f["id"] == WEB_IMAGE)
    assert ("accepted", first) == (found["status"], found["triage"]["run_id"])


def test_a_run_is_compared_with_the_baseline_it_names(client: TestClient) -> None:
    """A baseline run id is compared with; none compares with nothing; 404 for an unknown."""
    first = _start(client)
    second = _start(client, "v2", baseline=first)
    compared = _model(client, second)["baseline"]
    assert (first, first, 1) == (compared["ref"], compared["run_id"],
                                 compared["counts"]["resolved"])
    plain = _start(client, baseline="none")
    assert "baseline" not in _model(client, plain)
    unknown = client.post("/runs", headers=auth(ALICE), files=_files("v1"),
                          data={"baseline": "no-such-run"})
    assert 404 == unknown.status_code


def _login(client: TestClient) -> str:
    client.post("/ui/login", data={"token": ALICE})
    csrf: str = client.get("/me").json()["csrf_token"]
    return csrf


def test_the_ui_diff_view_picks_runs_from_a_list(client: TestClient) -> None:
    """The diff page lists completed runs, defaults to the baseline and shows real tables."""
    first = _start(client)
    second = _start(client, "v2")
    _login(client)
    page = client.get(f"/ui/diff?new={second}")
    assert 200 == page.status_code
    assert f'<option value="{first}" selected>' in page.text
    for table in ("diff-new", "diff-changed", "diff-resolved"):
        assert f'id="{table}"' in page.text
    assert "controls.privileged-container@Deployment/shop/web#debug" in page.text
    assert "<pre" not in page.text
    empty = client.get("/ui/diff")
    assert 200 == empty.status_code and 'id="diff-result"' not in empty.text


def test_the_ui_report_shows_drift_and_records_triage(client: TestClient) -> None:
    """The report shows the changes since the baseline; its triage form stores a decision."""
    first = _start(client)
    second = _start(client, "v2")
    csrf = _login(client)
    report = client.get(f"/ui/runs/{second}/report")
    assert 200 == report.status_code
    assert 'id="baseline"' in report.text and 'id="resolved"' in report.text
    assert re.search(r'class="drift drift-new"', report.text)
    posted = client.post(f"/ui/runs/{second}/triage", follow_redirects=False, data={
        "csrf": csrf, "f0_id": WEB_IMAGE, "f0_status": "false_positive",
        "f0_note": "The registry is immutable."})
    assert 303 == posted.status_code, posted.text
    banner = client.get(posted.headers["location"])
    assert "1 decision recorded for shop: it applies from its next run." in banner.text
    refused = client.post(f"/ui/runs/{second}/triage", data={
        "csrf": csrf, "f0_id": WEB_IMAGE, "f0_status": "accepted"})
    assert 422 == refused.status_code
    assert 'id="triage-error"' in refused.text
    forged = client.post(f"/ui/runs/{first}/triage", data={
        "csrf": "forged", "f0_id": WEB_IMAGE, "f0_status": "false_positive"})
    assert 403 == forged.status_code


def test_the_gate_shows_drift_and_asks_for_an_owner(client: TestClient) -> None:
    """At a gate of a run with a baseline: what changed in the phase, and acceptance fields."""
    _start(client)
    response = client.post("/runs", headers=auth(ALICE), files=_files("v2"),
                           data={"approval": "changed"})
    run_id = str(response.json()["run_id"])
    assert "awaiting_approval" == _wait(client, run_id)["status"]
    pending = client.get(f"/runs/{run_id}/pending", headers=auth(ALICE)).json()
    assert "network" == pending["phase"]
    assert ["network.allow-all-ingress@NetworkPolicy/shop/web-public#0"] == (
        pending["drift"]["resolved"])
    _login(client)
    page = client.get(f"/ui/runs/{run_id}")
    assert 'id="pending-drift"' in page.text
    assert 'name="f0_owner"' in page.text and 'name="f0_expires"' in page.text
