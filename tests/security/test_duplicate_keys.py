"""A duplicate mapping key is refused with its file and line, as the Kubernetes API server does.

YAML and JSON parsers keep the last of two equal keys, so ``privileged: false`` followed by
``privileged: true`` was analysed as privileged while a reviewer reading the top saw false, and
``{"severity": "low", "severity": "critical"}`` in an edits file was applied as critical.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from workflow.api import ApiSettings, create_app
from workflow.cli import app
from workflow.domain.errors import DecisionError, InventoryError
from workflow.domain.safe_yaml import Limits, parse_documents
from workflow.domain.settings import Settings
from workflow.gates import load_edits

POD_YAML = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: nginx:1.25
      securityContext:
        privileged: false
        privileged: true
"""

POD_JSON = """\
{"apiVersion": "v1", "kind": "Pod",
 "metadata": {"name": "web"},
 "spec": {"containers": [{"name": "app", "image": "nginx:1.25",
   "securityContext": {"privileged": false,
                       "privileged": true}}]}}
"""

EDITS = '{"edits": [{"id": "x",\n  "severity": "low",\n  "severity": "critical"}]}\n'

LIMITS = Limits.of(Settings(home=Path("/nonexistent")))


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KTMB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KTMB_DEBUG", raising=False)


def ktmb(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"KTMB_EMBEDDINGS": "off"},
                              catch_exceptions=False)


@pytest.mark.parametrize(("name", "text", "line", "first"), [
    ("pod.yaml", POD_YAML, 11, 10), ("pod.json", POD_JSON, 5, 4)])
def test_scan_refuses_a_duplicate_key(tmp_path: Path, name: str, text: str, line: int,
                                      first: int) -> None:
    """``ktmb scan`` exits 2 naming the file, the line and the first occurrence."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = ktmb("scan", str(path))
    assert 2 == result.exit_code
    assert (f"ktmb: error: {path}:{line}: duplicate key 'privileged' (first at line {first})\n"
            == result.stderr)


def test_duplicate_keys_in_a_list_item_and_in_flow_style() -> None:
    """Any mapping counts: an item of a List, a flow mapping, a key that is not a string."""
    text = ("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
            "  metadata: {name: a, name: b}\n")
    with pytest.raises(InventoryError) as info:
        parse_documents("list.yaml", text, LIMITS)
    assert "list.yaml:6: duplicate key 'name' (first at line 6)" == str(info.value)
    with pytest.raises(InventoryError) as info:
        parse_documents("ports.yaml", "a:\n  80: x\n  80: y\n", LIMITS)
    assert "ports.yaml:3: duplicate key '80' (first at line 2)" == str(info.value)


def test_merge_keys_override_without_being_duplicates() -> None:
    """A key written next to a ``<<`` merge overrides the merged one: not a duplicate."""
    text = ("base: &base {privileged: false, image: a}\n"
            "c1: {<<: *base, privileged: true}\n"
            "c2: *base\n"
            "c3: &c3 {<<: [*base, {image: b}], image: c}\n"
            "c4: *c3\n")
    body = parse_documents("merge.yaml", text, LIMITS)[0].body
    assert ({"privileged": True, "image": "a"}, {"privileged": False, "image": "a"}, "c", "c") \
        == (body["c1"], body["c2"], body["c3"]["image"], body["c4"]["image"])
    with pytest.raises(InventoryError) as info:
        parse_documents("merge.yaml", "base: &b {a: 1}\nc: {<<: *b, a: 2, a: 3}\n", LIMITS)
    assert "merge.yaml:2: duplicate key 'a' (first at line 2)" == str(info.value)


def test_edits_file_refuses_a_duplicate_key(tmp_path: Path) -> None:
    """An edits file with a duplicate key is a DecisionError naming file and line."""
    path = tmp_path / "edits.json"
    path.write_text(EDITS, encoding="utf-8")
    with pytest.raises(DecisionError) as info:
        load_edits(path)
    assert f"{path}:3: duplicate key 'severity' (first at line 2)" == str(info.value)


def test_approve_refuses_an_edits_file_with_a_duplicate_key(tmp_path: Path) -> None:
    """``ktmb approve --edits`` exits 2 before it opens the run."""
    path = tmp_path / "edits.yaml"
    path.write_text("edits:\n  - id: x\n    severity: low\n    severity: critical\n",
                    encoding="utf-8")
    result = ktmb("approve", "some-run", "--edits", str(path))
    assert 2 == result.exit_code
    assert (f"ktmb: error: {path}:4: duplicate key 'severity' (first at line 3)\n"
            == result.stderr)


TOKEN = "alice-token-0123456789abcdef"


@pytest.fixture
def client(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[TestClient]:
    """The service on a fresh database, with one reviewer token."""
    monkeypatch.setenv("KTMB_EMBEDDINGS", "off")
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{TOKEN} alice security\n", encoding="utf-8")
    tokens.chmod(0o600)
    application = create_app(settings, api_settings=ApiSettings(tokens_file=tokens))
    with TestClient(application, raise_server_exceptions=False) as test_client:
        yield test_client
        application.state.service.wait_idle(60)


@pytest.mark.e2e
def test_api_refuses_a_json_body_with_a_duplicate_key(client: TestClient, tmp_path: Path
                                                      ) -> None:
    """An approval whose JSON body repeats a key answers 422; the run stays at its gate."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD_YAML.replace("        privileged: false\n", ""), encoding="utf-8")
    started = client.post("/runs", headers=headers, data={"approval": "controls"},
                          files=[("manifests", ("pod.yaml", manifest.read_bytes(),
                                                "application/yaml"))])
    assert 202 == started.status_code, started.text
    run_id = started.json()["run_id"]
    deadline = time.monotonic() + 90
    while client.get(f"/runs/{run_id}", headers=headers).json()["status"] != \
            "awaiting_approval" and time.monotonic() < deadline:
        time.sleep(0.2)
    finding = client.get(f"/runs/{run_id}/pending", headers=headers).json()["findings"][0]
    body = ('{"comment": "ok", "edits": {"edits": [{"id": ' + json.dumps(finding["id"])
            + ', "severity": "low", "severity": "critical"}]}}')
    response = client.post(f"/runs/{run_id}/approve", content=body,
                           headers={**headers, "Content-Type": "application/json"})
    assert (422, {"error": "RequestValidationError",
                  "detail": "request: duplicate key 'severity' in the JSON body"}) \
        == (response.status_code, response.json())
    assert "awaiting_approval" == client.get(f"/runs/{run_id}", headers=headers).json()["status"]
