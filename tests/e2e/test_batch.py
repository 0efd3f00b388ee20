"""``ktmb batch``: concurrent applications, one failing, a summary at the end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {name}
spec:
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: main
          image: example.org/{name}:latest
          securityContext:
            privileged: true
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {name}
spec:
  type: LoadBalancer
  selector: {{app: {name}}}
  ports:
    - port: 443
"""


def _apps(root: Path) -> list[Path]:
    """Three application directories; the third holds a binary .yaml file."""
    dirs = []
    for name in ("alpha", "bravo", "charlie"):
        app = root / name
        (app / "k8s").mkdir(parents=True)
        (app / "k8s" / "app.yaml").write_text(DEPLOYMENT.format(name=name), encoding="utf-8")
        dirs.append(app)
    (dirs[2] / "k8s" / "blob.yaml").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(200))
    return dirs


def _batch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workflow", "batch", *args],
                          env={**env, "KTMB_EMBEDDINGS": "off"}, cwd=REPO, capture_output=True,
                          text=True, timeout=600, check=False)


def test_batch_with_a_failing_application(cli_env: dict[str, str], tmp_path: Path) -> None:
    """Two applications complete, the binary one fails; exit 1 and a table naming it."""
    apps = _apps(tmp_path)
    result = _batch(cli_env, *map(str, apps), "--workers", "2")
    assert 1 == result.returncode, result.stderr
    table = result.stdout.splitlines()
    assert table[0].split()[:3] == ["application", "status", "run"]
    rows = {line.split()[0]: line for line in table[1:] if line.strip()}
    assert ["alpha", "bravo", "charlie"] == sorted(rows)
    assert "completed" == rows["alpha"].split()[1]
    assert "completed" == rows["bravo"].split()[1]
    assert "failed" == rows["charlie"].split()[1]
    assert f"{apps[2] / 'k8s' / 'blob.yaml'}: binary file, not YAML or JSON text" in rows[
        "charlie"]
    with psycopg.connect(cli_env["KTMB_DATABASE_URL"]) as conn:
        stored = sorted((str(r[0]), str(r[1])) for r in conn.execute(
            "SELECT application, status FROM runs").fetchall())
        versions = sorted(str(r[0]) for r in conn.execute(
            "SELECT application FROM threat_models").fetchall())
    assert [("alpha", "completed"), ("bravo", "completed")] == [
        row for row in stored if row[0] != "charlie"]
    assert {"failed"} >= {status for app, status in stored if app == "charlie"}
    assert ["alpha", "bravo"] == versions


def test_batch_json_summary(cli_env: dict[str, str], tmp_path: Path) -> None:
    """``--json`` prints the same summary as JSON, with severity counts for completed runs."""
    apps = _apps(tmp_path)
    result = _batch(cli_env, *map(str, apps[:2]), "--workers", "2", "--json")
    assert 0 == result.returncode, result.stderr
    summary = json.loads(result.stdout)
    assert [("alpha", "completed", None), ("bravo", "completed", None)] == [
        (r["application"], r["status"], r["error"]) for r in summary]
    assert all(sum(r["summary"].values()) > 0 for r in summary)


def test_batch_reads_each_applications_profile(cli_env: dict[str, str], tmp_path: Path) -> None:
    """Each application directory's ktmb.yaml names it and answers its questions."""
    apps = _apps(tmp_path)[:2]
    (apps[0] / "ktmb.yaml").write_text(
        "name: alpha-payments\nowner: team-alpha\nanswers:\n  audit_logging: disabled\n",
        encoding="utf-8")
    (apps[1] / "ktmb.yaml").write_text(
        "name: bravo-shop\ncloud: gke\nanswers:\n  audit_logging: enabled\n", encoding="utf-8")
    (apps[1] / "ktmb-suppressions.yaml").write_text(
        "- rule: controls.privileged-container\n  owner: team-bravo\n  reason: node agent\n"
        "  expires: 2099-01-31\n", encoding="utf-8")
    result = _batch(cli_env, *map(str, apps), "--workers", "1", "--json")
    assert 0 == result.returncode, result.stderr
    summary = {r["application"]: r for r in json.loads(result.stdout)}
    assert ["alpha-payments", "bravo-shop"] == sorted(summary)
    models = {}
    for name, row in summary.items():
        shown = subprocess.run([sys.executable, "-m", "workflow", "show", row["run_id"]],
                               env=cli_env, cwd=REPO, capture_output=True, text=True,
                               timeout=120, check=True)
        models[name] = {f["id"]: f for f in json.loads(shown.stdout)["findings"]}
    audit = ("logging.audit-logging-disabled@Cluster/audit",
             "logging.audit-policy-question@Cluster/audit")
    assert (True, False) == tuple(fid in models["alpha-payments"] for fid in audit)
    assert (False, False) == tuple(fid in models["bravo-shop"] for fid in audit)
    assert "accepted" == models["bravo-shop"][
        "controls.privileged-container@Deployment/bravo/bravo#main"]["status"]
    assert "open" == models["alpha-payments"][
        "controls.privileged-container@Deployment/alpha/alpha#main"]["status"]
