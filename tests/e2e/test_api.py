"""The HTTP API through FastAPI's TestClient against a real PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from workflow.api import ApiSettings, create_app
from workflow.domain.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef00"
CAROL = "carol-token-0123456789abcdef"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MANIFESTS = EXAMPLES / "payments" / "manifests"
NOTES = EXAMPLES / "payments" / "ARCHITECTURE.md"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(autouse=True)
def _no_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests exercise the service, not retrieval: keyword search only, no model load."""
    monkeypatch.setenv("KTMB_EMBEDDINGS", "off")


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens"
    path.write_text(f"# token user groups\n{ALICE} alice payments,security\n"
                    f"{BOB} bob marketing\n{CAROL} carol payments\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def make_client(settings: Settings, tokens_file: Path
                ) -> Iterator[Callable[..., TestClient]]:
    clients: list[tuple[TestClient, Any]] = []

    def make(**overrides: Any) -> TestClient:
        api = ApiSettings(**{"tokens_file": tokens_file, **overrides})
        app = create_app(settings, api_settings=api)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append((client, app.state.service))
        return client

    yield make
    for client, service in clients:
        service.wait_idle(60)
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def upload_files(names: list[tuple[str, Path]] | None = None) -> list[tuple[str, Any]]:
    files: list[tuple[str, Any]] = [
        ("manifests", (p.name, p.read_bytes(), "application/yaml"))
        for p in sorted(MANIFESTS.glob("*.yaml"))]
    files.append(("architecture", ("ARCHITECTURE.md", NOTES.read_bytes(), "text/markdown")))
    for field, path in names or []:
        files.append((field, (path.name, path.read_bytes(), "application/yaml")))
    return files


def start(client: TestClient, token: str = ALICE, *, approval: str = "architecture,identity",
          application: str = "payments", **data: str) -> str:
    response = client.post("/runs", headers=auth(token), files=upload_files(),
                           data={"application": application, "approval": approval, **data})
    assert 202 == response.status_code, response.text
    return str(response.json()["run_id"])


def wait(client: TestClient, run_id: str, token: str = ALICE, timeout: float = 90.0
         ) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"/runs/{run_id}", headers=auth(token)).json()
        if body["status"] not in {"queued", "running"} and not body["busy"]:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {body['status']} after {timeout}s")
        time.sleep(0.05)


def assert_clean_error(response: Any, status: int) -> dict[str, Any]:
    assert status == response.status_code, response.text
    body: dict[str, Any] = response.json()
    assert ["detail", "error"] == sorted(body)
    assert "Traceback" not in response.text
    assert 1 == len(body["detail"].splitlines())
    return body


def test_no_token_is_401(client: TestClient) -> None:
    """A request without credentials is refused with 401 and a Bearer challenge."""
    response = client.get("/runs")
    assert_clean_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_bad_token_is_401(client: TestClient) -> None:
    """An unknown token and a malformed Authorization header are both 401."""
    assert_clean_error(client.get("/runs", headers=auth("not-a-real-token-at-all")), 401)
    assert_clean_error(client.get("/runs", headers={"Authorization": "Basic abc"}), 401)


def test_group_visibility(client: TestClient) -> None:
    """A run owned by payments is visible to payments members and 404 to everyone else."""
    run_id = start(client)
    wait(client, run_id)
    for path in (f"/runs/{run_id}", f"/runs/{run_id}/pending",
                 f"/runs/{run_id}/export?format=json", f"/ui/runs/{run_id}"):
        bob = client.get(path, headers=auth(BOB))
        assert 404 == bob.status_code, path
        assert run_id not in client.get("/runs/nope", headers=auth(BOB)).text
    assert_clean_error(client.post(f"/runs/{run_id}/approve", headers=auth(BOB), json={}), 404)
    missing = assert_clean_error(client.get("/runs/no-such-run", headers=auth(BOB)), 404)
    hidden = assert_clean_error(client.get(f"/runs/{run_id}", headers=auth(BOB)), 404)
    assert missing["error"] == hidden["error"]
    assert [] == client.get("/runs", headers=auth(BOB)).json()
    assert [run_id] == [r["run_id"] for r in client.get("/runs", headers=auth(CAROL)).json()]
    assert 200 == client.get(f"/runs/{run_id}/pending", headers=auth(CAROL)).status_code


def test_run_without_owner_groups_is_visible_to_all(client: TestClient) -> None:
    """A run given no owner groups is visible to every reviewer; a foreign group is 403."""
    response = client.post("/runs", headers=auth(ALICE), files=upload_files(),
                           data={"application": "open", "owner_groups": "none"})
    assert 202 == response.status_code, response.text
    run_id = response.json()["run_id"]
    assert 200 == client.get(f"/runs/{run_id}", headers=auth(BOB)).status_code
    foreign = client.post("/runs", headers=auth(ALICE), files=upload_files(),
                          data={"owner_groups": "marketing"})
    assert_clean_error(foreign, 403)


def test_start_by_upload_and_list(client: TestClient, tmp_path: Path) -> None:
    """An upload starts a run (202), names are sanitised, and the run shows in the list."""
    sneaky = tmp_path / "sneaky.yaml"
    sneaky.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, "
                      "namespace: payments}\ndata: {a: b}\n", encoding="utf-8")
    files = upload_files()
    files.append(("manifests", ("../../etc/cron.d/evil.yaml", sneaky.read_bytes(), "text/yaml")))
    files.append(("manifests", (".hidden", sneaky.read_bytes(), "text/yaml")))
    response = client.post("/runs", headers=auth(ALICE), files=files,
                           data={"application": "payments", "approval": "architecture"})
    assert 202 == response.status_code, response.text
    accepted = response.json()
    assert "queued" == accepted["status"]
    status = wait(client, accepted["run_id"])
    assert "awaiting_approval" == status["status"]
    assert "alice" == status["created_by"]
    assert ["payments", "security"] == status["owner_groups"]
    model = client.get(f"/runs/{accepted['run_id']}/export?format=json",
                       headers=auth(ALICE)).json()
    paths = [f["path"] for f in model["application"]["inputs"]]
    assert all(".." not in p and not p.startswith("/") for p in paths), paths
    assert {"evil.yaml", "hidden.yaml"} <= set(paths)
    listed = client.get("/runs?application=payments&status=awaiting_approval",
                        headers=auth(ALICE)).json()
    assert [accepted["run_id"]] == [r["run_id"] for r in listed]
    assert [] == client.get("/runs?status=completed", headers=auth(ALICE)).json()


def test_pending_phase_with_findings(client: TestClient) -> None:
    """The pending phase lists its findings with evidence pointing into the manifests."""
    run_id = start(client)
    status = wait(client, run_id)
    assert ("awaiting_approval", "architecture") == (status["status"], status["pending_phase"])
    pending = client.get(f"/runs/{run_id}/pending", headers=auth(ALICE)).json()
    assert "architecture" == pending["phase"]
    assert pending["findings"]
    first = pending["findings"][0]
    assert "architecture" == first["phase"]
    assert first["evidence"][0]["file"].endswith(".yaml")
    phases = {p["phase"]: p["status"] for p in status["phases"]}
    assert "awaiting_approval" == phases["architecture"]
    assert "pending" == phases["identity"]


def test_approve_with_edits(client: TestClient) -> None:
    """Approving with edits records them, applies them, and the run moves to the next gate."""
    run_id = start(client)
    wait(client, run_id)
    finding = client.get(f"/runs/{run_id}/pending", headers=auth(ALICE)).json()["findings"][0]
    body: dict[str, Any] = {"comment": "looks right", "edits": {"edits": [
        {"id": finding["id"], "severity": "low", "status": "accepted", "note": "known, tracked",
         "owner": "team-payments", "reason": "VPN only", "expires": "2099-06-30"}]}}
    response = client.post(f"/runs/{run_id}/approve", headers=auth(ALICE), json=body)
    assert 202 == response.status_code, response.text
    status = wait(client, run_id)
    assert ("awaiting_approval", "identity") == (status["status"], status["pending_phase"])
    assert ["architecture"] == [a["phase"] for a in status["approvals"]]
    assert "approved" == status["approvals"][0]["decision"]
    assert "alice" == status["approvals"][0]["decided_by"]
    stored = status["approvals"][0]["edits"]["edits"][0]
    assert body["edits"]["edits"][0] == {k: stored[k] for k in body["edits"]["edits"][0]}
    model = client.get(f"/runs/{run_id}/export?format=json", headers=auth(ALICE)).json()
    edited = next(f for f in model["findings"] if f["id"] == finding["id"])
    assert ("low", "accepted") == (edited["severity_override"], edited["status"])
    assert ["known, tracked"] == [n["text"] for n in edited["notes"]]


@pytest.mark.parametrize(("body", "needle"), [
    ({"edits": {"edits": [{"id": "no-such-finding", "severity": "low"}]}}, "no-such-finding"),
    ({"edits": {"edits": [{"id": "FIRST", "severity": "apocalyptic"}]}}, "severity"),
    ({"edits": {"edits": [{"id": "FIRST", "remove": True, "severity": "low"}]}}, "remove"),
    ({"edits": {"edits": [{"id": "FIRST"}]}}, "changes nothing"),
    ({"edits": {"edits": []}}, "edits"),
    ({"edits": {"edits": [{"id": "FIRST", "colour": "red"}]}}, "colour"),
    ({"verdict": "yes"}, "verdict"),
])
def test_malformed_decision_is_422_and_run_unchanged(client: TestClient, body: dict[str, Any],
                                                     needle: str) -> None:
    """A malformed decision answers 422 with a clear message; the run stays at its gate."""
    run_id = start(client)
    before = wait(client, run_id)
    first = client.get(f"/runs/{run_id}/pending", headers=auth(ALICE)).json()["findings"][0]
    payload = json.loads(json.dumps(body).replace("FIRST", first["id"]))
    response = client.post(f"/runs/{run_id}/approve", headers=auth(ALICE), json=payload)
    error = assert_clean_error(response, 422)
    assert needle in error["detail"]
    after = wait(client, run_id)
    assert (before["status"], before["pending_phase"], []) == (
        after["status"], after["pending_phase"], after["approvals"])
    assert 200 == client.get(f"/runs/{run_id}/pending", headers=auth(ALICE)).status_code


def test_reject(client: TestClient) -> None:
    """Rejecting needs a reason; a rejected run stops and no longer takes decisions."""
    run_id = start(client)
    wait(client, run_id)
    assert_clean_error(client.post(f"/runs/{run_id}/reject", headers=auth(ALICE),
                                   json={"reason": ""}), 422)
    assert_clean_error(client.post(f"/runs/{run_id}/reject", headers=auth(ALICE),
                                   json={"reason": "   "}), 422)
    response = client.post(f"/runs/{run_id}/reject", headers=auth(ALICE),
                           json={"reason": "the ingress is not ours"})
    assert 202 == response.status_code, response.text
    status = wait(client, run_id)
    assert ("rejected", "architecture") == (status["status"], status["pending_phase"])
    assert "the ingress is not ours" == status["approvals"][0]["comment"]
    assert_clean_error(client.post(f"/runs/{run_id}/approve", headers=auth(ALICE), json={}), 409)
    assert_clean_error(client.get(f"/runs/{run_id}/pending", headers=auth(ALICE)), 409)


def test_exports(client: TestClient) -> None:
    """A completed run exports as SARIF 2.1.0 and as a locked-down HTML page."""
    run_id = start(client, approval="none")
    assert "completed" == wait(client, run_id)["status"]
    sarif = client.get(f"/runs/{run_id}/export?format=sarif", headers=auth(ALICE))
    assert 200 == sarif.status_code
    assert "application/sarif+json" == sarif.headers["content-type"]
    assert "2.1.0" == sarif.json()["version"]
    assert sarif.json()["runs"][0]["results"]
    html = client.get(f"/runs/{run_id}/export?format=html&download=true", headers=auth(ALICE))
    assert 200 == html.status_code
    assert html.headers["content-type"].startswith("text/html")
    assert "sandbox" in html.headers["content-security-policy"]
    assert html.headers["content-disposition"].startswith("attachment;")
    assert "<svg" in html.text
    for fmt in ("markdown", "mermaid", "otm"):
        assert 200 == client.get(f"/runs/{run_id}/export?format={fmt}",
                                 headers=auth(ALICE)).status_code
    assert_clean_error(client.get(f"/runs/{run_id}/export?format=pdf", headers=auth(ALICE)), 422)


def test_partial_export_is_marked(client: TestClient) -> None:
    """A run waiting at a gate exports a partial model, marked as such."""
    run_id = start(client)
    wait(client, run_id)
    model = client.get(f"/runs/{run_id}/export?format=json", headers=auth(ALICE)).json()
    assert model["partial"] is True


def test_diff(client: TestClient) -> None:
    """Two completed runs of an application diff by fingerprint; an invisible one is 404."""
    old = start(client, approval="none")
    new = start(client, approval="none")
    wait(client, old)
    wait(client, new)
    response = client.get(f"/diff?old={old}&new={new}", headers=auth(ALICE))
    assert 200 == response.status_code, response.text
    body = response.json()
    assert {"old_run", "new_run", "overall_risk", "counts", "new", "changed", "resolved",
            "unchanged", "reopened", "attack_paths"} == set(body)
    assert (old, new) == (body["old_run"], body["new_run"])
    assert body["overall_risk"]["old"] == body["overall_risk"]["new"]
    assert {"old", "new"} == set(body["overall_risk"])
    assert ([], [], [], []) == (body["new"], body["changed"], body["resolved"],
                                body["reopened"])
    assert [] == [p for state in ("new", "changed", "resolved")
                  for p in body["attack_paths"][state]]
    unchanged = body["unchanged"]
    assert unchanged and all(isinstance(fid, str) for fid in unchanged)
    assert {"new": 0, "changed": 0, "resolved": 0, "unchanged": len(unchanged)} == body["counts"]
    model = client.get(f"/runs/{new}/export?format=json", headers=auth(ALICE)).json()
    assert sorted(f["id"] for f in model["findings"]) == unchanged
    assert_clean_error(client.get(f"/diff?old={old}&new={new}", headers=auth(BOB)), 404)
    assert_clean_error(client.get(f"/diff?old={old}", headers=auth(ALICE)), 422)


def test_bad_requests_are_4xx(client: TestClient, tmp_path: Path) -> None:
    """Bad input gets a clear 4xx, never a 500 or a trace."""
    h = auth(ALICE)
    assert_clean_error(client.get("/runs/does-not-exist", headers=h), 404)
    assert_clean_error(client.get("/runs?status=sleeping", headers=h), 422)
    assert_clean_error(client.get("/runs?limit=0", headers=h), 422)
    assert_clean_error(client.post("/runs", headers=h, data={"application": "x"}), 422)
    bad_yaml = client.post("/runs", headers=h, files=[
        ("manifests", ("broken.yaml", b"kind: Deployment\nmetadata: [unclosed\n", "text/yaml"))])
    assert "broken.yaml" in assert_clean_error(bad_yaml, 400)["detail"]
    binary = client.post("/runs", headers=h, files=[
        ("manifests", ("blob.yaml", b"\x00\x01\x02binary", "application/octet-stream"))])
    assert_clean_error(binary, 400)
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n".encode() for i in range(12))
    assert_clean_error(client.post("/runs", headers=h, files=[
        ("manifests", ("bomb.yaml", bomb, "text/yaml"))]), 400)
    assert_clean_error(client.post("/runs", headers=h, files=upload_files(),
                                   data={"approval": "sometimes"}), 400)
    assert_clean_error(client.post("/runs/does-not-exist/approve", headers=h, json={}), 404)
    assert_clean_error(client.post("/runs/x/approve", headers={**h, "Content-Type":
                                   "application/json"}, content=b"{not json"), 422)
    assert_clean_error(client.get("/no/such/endpoint", headers=h), 404)
    assert_clean_error(client.delete("/runs", headers=h), 405)
    big = b'{"reason": "' + b"x" * (2 << 20) + b'"}'
    too_large = assert_clean_error(client.post("/runs/x/reject", headers={
        **h, "Content-Type": "application/json"}, content=big), 413)
    assert "TooLarge" == too_large["error"]
    unauthenticated = client.post("/runs/from-path", json={"paths": ["/srv"]})
    assert "before a request body" in assert_clean_error(unauthenticated, 401)["detail"]
    run_id = start(client, approval="none")
    wait(client, run_id)
    assert_clean_error(client.post(f"/runs/{run_id}/approve", headers=h, json={}), 409)


def test_server_paths(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    """Server-side paths are read only inside KTMB_SERVER_PATHS; anything else is 403."""
    allowed = tmp_path / "allowed"
    (allowed / "payments").mkdir(parents=True)
    for path in MANIFESTS.glob("*.yaml"):
        (allowed / "payments" / path.name).write_bytes(path.read_bytes())
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("kind: ConfigMap\n", encoding="utf-8")
    client = make_client(server_paths=(allowed,))
    h = auth(ALICE)
    response = client.post("/runs/from-path", headers=h,
                           json={"paths": [str(allowed / "payments")], "approval": "none"})
    assert 202 == response.status_code, response.text
    assert "completed" == wait(client, response.json()["run_id"])["status"]
    for raw in (str(outside), str(allowed / ".." / "outside"), "/etc/passwd"):
        assert_clean_error(client.post("/runs/from-path", headers=h, json={"paths": [raw]}),
                           403)
    (allowed / "escape").mkdir()
    (allowed / "escape" / "link.yaml").symlink_to(outside / "secret.yaml")
    assert_clean_error(client.post("/runs/from-path", headers=h,
                                   json={"paths": [str(allowed / "escape")]}), 403)
    assert_clean_error(client.post("/runs/from-path", headers=h,
                                   json={"paths": ["relative/path"]}), 400)
    assert_clean_error(client.post("/runs/from-path", headers=h,
                                   json={"paths": [str(allowed / "missing")]}), 404)
    closed = make_client()
    assert_clean_error(closed.post("/runs/from-path", headers=h,
                                   json={"paths": [str(allowed / "payments")]}), 403)


def test_unexpected_error_is_one_line_500(client: TestClient,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception answers 500 with one line and no trace or exception text."""
    service = client.app.state.service  # type: ignore[attr-defined]

    def explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("boom\n  File secret.py, line 1, password=hunter2")

    monkeypatch.setattr(service, "list_runs", explode)
    response = client.get("/runs", headers=auth(ALICE))
    body = assert_clean_error(response, 500)
    assert "InternalError" == body["error"]
    assert "hunter2" not in response.text


def test_trusted_header(make_client: Callable[..., TestClient]) -> None:
    """The proxy header authenticates only when configured; its writes need the CSRF token."""
    plain = make_client()
    assert_clean_error(plain.get("/runs", headers={"X-Forwarded-User": "alice"}), 401)
    client = make_client(trusted_header_user="X-Forwarded-User",
                         trusted_header_groups="X-Forwarded-Groups",
                         trusted_proxies=("testclient",))
    headers = {"X-Forwarded-User": "dave", "X-Forwarded-Groups": "payments, sre"}
    me = client.get("/me", headers=headers).json()
    assert ("dave", ["payments", "sre"], "header") == (me["user"], me["groups"], me["via"])
    refused = client.post("/runs", headers=headers, files=upload_files())
    assert_clean_error(refused, 403)
    accepted = client.post("/runs", headers={**headers, "X-CSRF-Token": me["csrf_token"]},
                           files=upload_files(), data={"approval": "none"})
    assert 202 == accepted.status_code, accepted.text
    wait(client, accepted.json()["run_id"], token=ALICE)
    untrusted = make_client(trusted_header_user="X-Forwarded-User",
                            trusted_proxies=("10.0.0.1",))
    assert_clean_error(untrusted.get("/runs", headers=headers), 401)


def test_ui_login_cookie_and_csrf(client: TestClient) -> None:
    """The login form sets an HttpOnly SameSite=Strict cookie; forms need the CSRF token."""
    assert 303 == client.get("/ui/", follow_redirects=False).status_code
    bad = client.post("/ui/login", data={"token": "wrong-token-000000000000"})
    assert 401 == bad.status_code
    response = client.post("/ui/login", data={"token": ALICE, "next": "/ui/"},
                           follow_redirects=False)
    assert 303 == response.status_code
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert ALICE.lower() not in cookie
    run_id = start(client)
    wait(client, run_id)
    page = client.get(f"/ui/runs/{run_id}")
    assert 200 == page.status_code
    assert "approve-form" in page.text
    forged = client.post(f"/ui/runs/{run_id}/approve", data={"csrf": "forged"})
    assert 403 == forged.status_code
    csrf = client.get("/me").json()["csrf_token"]
    cross = client.post(f"/ui/runs/{run_id}/approve", data={"csrf": csrf},
                        headers={"Origin": "https://evil.example"})
    assert 403 == cross.status_code
    assert "awaiting_approval" == wait(client, run_id)["status"]
    ok = client.post(f"/ui/runs/{run_id}/approve", data={"csrf": csrf}, follow_redirects=False)
    assert 303 == ok.status_code
    assert "identity" == wait(client, run_id)["pending_phase"]


def test_ui_escapes_hostile_names(client: TestClient) -> None:
    """A <script> in an application name is escaped on every page."""
    hostile = '<script>alert("x")</script>'
    run_id = start(client, application=hostile, approval="none")
    wait(client, run_id)
    client.post("/ui/login", data={"token": ALICE})
    for path in ("/ui/", f"/ui/runs/{run_id}", f"/ui/runs/{run_id}/report"):
        page = client.get(path)
        assert 200 == page.status_code, path
        assert hostile not in page.text
        assert "&lt;script&gt;" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
    report = client.get(f"/ui/runs/{run_id}/report")
    assert "<svg" in report.text


def test_openapi_schema(client: TestClient) -> None:
    """The OpenAPI schema documents the endpoints and the decision bodies."""
    schema = client.get("/openapi.json").json()
    expected = {"/runs", "/runs/from-path", "/runs/{run_id}", "/runs/{run_id}/pending",
                "/runs/{run_id}/approve", "/runs/{run_id}/reject", "/runs/{run_id}/export",
                "/diff", "/me", "/kb/collections"}
    assert expected <= set(schema["paths"])
    components = set(schema["components"]["schemas"])
    assert {"ApproveRequest", "PhaseEdits", "FindingEdit", "RunStatus", "ErrorBody"} <= components
    assert not any(p.startswith("/ui") for p in schema["paths"])


def test_kb_collections_follow_groups(client: TestClient) -> None:
    """Knowledge-base collections are listed as the reviewer's principal sees them."""
    response = client.get("/kb/collections", headers=auth(BOB))
    assert 200 == response.status_code, response.text
    assert all(c["public"] or set(c["read_groups"]) & {"marketing"} for c in response.json())


def test_queue_executor(make_client: Callable[..., TestClient], cli_env: dict[str, str]) -> None:
    """With KTMB_API_EXECUTOR=queue, starts and decisions are jobs that `ktmb worker` runs."""
    import subprocess
    import sys

    client = make_client(executor="queue")
    run_id = start(client)
    queued = client.get(f"/runs/{run_id}", headers=auth(ALICE)).json()
    assert ("queued", True) == (queued["status"], queued["busy"])
    env = {**cli_env, "KTMB_EMBEDDINGS": "off"}

    def work() -> None:
        done = subprocess.run([sys.executable, "-m", "workflow", "worker", "--once"], env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert 0 == done.returncode, done.stderr[-2000:]

    work()
    status = wait(client, run_id)
    assert ("awaiting_approval", "architecture") == (status["status"], status["pending_phase"])
    accepted = client.post(f"/runs/{run_id}/approve", headers=auth(ALICE), json={})
    assert 202 == accepted.status_code, accepted.text
    assert client.get(f"/runs/{run_id}", headers=auth(ALICE)).json()["busy"] is True
    again = client.post(f"/runs/{run_id}/approve", headers=auth(ALICE), json={})
    assert_clean_error(again, 409)
    work()
    status = wait(client, run_id)
    assert ("awaiting_approval", "identity") == (status["status"], status["pending_phase"])


def test_serve_refuses_to_run_without_authentication(tmp_path: Path) -> None:
    """`ktmb serve` with neither tokens nor a trusted header exits 2 with one clear line."""
    from typer.testing import CliRunner

    from workflow.cli import app

    result = CliRunner().invoke(app, ["serve", "--port", "1"], env={
        "KTMB_API_TOKENS_FILE": "", "KTMB_TRUSTED_HEADER_USER": "",
        "KTMB_HOME": str(tmp_path)})
    assert 2 == result.exit_code
    assert "KTMB_API_TOKENS_FILE" in result.output
    assert "Traceback" not in result.output
