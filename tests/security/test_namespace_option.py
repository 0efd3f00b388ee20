"""Probe: objects without a namespace go where ``--namespace`` says, as with kubectl -n."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workflow.cli import app

CHART = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: exporter}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: exporter}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: exporter}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: exporter}
subjects: [{kind: ServiceAccount, name: exporter, namespace: monitoring}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: exporter}
spec:
  selector: {matchLabels: {app: exporter}}
  template:
    metadata: {labels: {app: exporter}}
    spec:
      serviceAccountName: exporter
      containers: [{name: exporter, image: "example/exporter:1.0"}]
"""


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KTMB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KTMB_DEBUG", raising=False)


def test_namespace_option_links_the_pod_token_to_its_cluster_rights(tmp_path: Path) -> None:
    """With --namespace monitoring the Deployment's token is the bound account's."""
    manifests = tmp_path / "chart.yaml"
    manifests.write_text(CHART, encoding="utf-8")
    result = CliRunner().invoke(app, ["scan", str(manifests), "--namespace", "monitoring"])
    assert 0 == result.exit_code, result.stderr
    ids = {f["id"] for f in json.loads(result.stdout)["findings"]}
    assert "identity.automount-with-rights@Deployment/monitoring/exporter" in ids
    assert not any("/default/" in i for i in ids)


def test_bad_namespace_is_one_line_error(tmp_path: Path) -> None:
    """A namespace that is not a DNS label is refused with one line, exit 2."""
    manifests = tmp_path / "chart.yaml"
    manifests.write_text(CHART, encoding="utf-8")
    result = CliRunner().invoke(app, ["scan", str(manifests), "--namespace", "Not_A_Name"])
    assert 2 == result.exit_code
    lines = result.stderr.strip().splitlines()
    assert 1 == len(lines), result.stderr
    assert "--namespace" in lines[0]
