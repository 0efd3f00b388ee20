"""Probes of the inputs teams have: Helm charts, kustomize overlays, schema-invalid objects.

Before: a chart directory was refused as invalid YAML (its templates), a kustomize overlay was
read as plain files (its namespace, name prefix and patches lost), and an invalid object was
analysed as if it were valid; ``--values``, ``--set`` and ``--kube-version`` did not exist.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.corpus_paths import REPO, corpus_app
from tests.security.cli_process import ktmb
from workflow.domain.renderers.kustomize import renderer

CHART = "tests/fixtures/helm/onlineboutique"
KUSTOMIZE = REPO / "tests" / "fixtures" / "kustomize"
OVERLAY = "tests/fixtures/kustomize/overlays/prod"
#: The templates of the corpus's rendered.yaml that the test chart reproduces.
CHART_TEMPLATES = ("common.yaml", "cartservice.yaml", "frontend.yaml")


def _env(tmp_path: Path) -> dict[str, str]:
    return {"KTMB_HOME": str(tmp_path / "home"), "PATH": "/usr/local/bin:/usr/bin:/bin",
            "KTMB_REDACTION_KEY": "test-key"}


def _scan(tmp_path: Path, *args: str | Path) -> dict[str, Any]:
    done = ktmb(_env(tmp_path), "scan", *args, "--format", "json")
    assert 0 == done.returncode, done.stderr
    model: dict[str, Any] = json.loads(done.stdout)
    return model


def _findings(model: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """Each finding by id: what it says, its score and its evidence, without file and line."""
    return {f["id"]: (f["title"], f["severity"], f["score"], f["status"], tuple(sorted(
        (e["resource"], e["path"], e.get("value")) for e in f["evidence"])))
        for f in model["findings"]}


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_chart_directory_is_rendered_and_findings_point_at_the_template(
        tmp_path: Path) -> None:
    """A chart directory is rendered (not refused); a finding names its template and line."""
    model = _scan(tmp_path, CHART)
    finding = next(f for f in model["findings"]
                   if f["id"] == "network.loadbalancer-service@Service/default/frontend-external")
    template = REPO / CHART / "templates" / "frontend.yaml"
    expected = (f"{CHART}/templates/frontend.yaml", _line_of(template, "type: LoadBalancer"))
    assert expected == (finding["evidence"][0]["file"], finding["evidence"][0]["line"])


@pytest.mark.corpus
def test_the_corpus_chart_values_give_the_rendered_yamls_findings(tmp_path: Path) -> None:
    """The chart with the corpus's values finds what the corpus's rendered YAML shows."""
    app = corpus_app("online-boutique-helm-hardened")
    sections: dict[str, str] = {}
    current = ""
    for line in (app / "rendered.yaml").read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("# Source: "):
            current = line.rsplit("/", 1)[-1].strip()
        sections[current] = sections.get(current, "") + line
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text("".join(sections[t] for t in CHART_TEMPLATES), encoding="utf-8")
    from_chart = _scan(tmp_path, CHART, "--values", app / "values-used.yaml.txt")
    from_yaml = _scan(tmp_path, rendered)
    assert _findings(from_yaml) == _findings(from_chart)
    assert {f"{CHART}/templates/{t}" for t in CHART_TEMPLATES} == {
        i["path"] for i in from_chart["application"]["inputs"]}


def test_a_chart_error_names_the_template_line_and_hides_the_values(tmp_path: Path) -> None:
    """A template that fails is named with its line; the values given never appear."""
    chart = tmp_path / "chart"
    shutil.copytree(REPO / CHART, chart)
    (chart / "templates" / "guard.yaml").write_text(
        "# a guard\n{{- if .Values.adminPassword }}\n"
        '{{ fail (printf "refusing password %s" .Values.adminPassword) }}\n{{- end }}\n',
        encoding="utf-8")
    done = ktmb(_env(tmp_path), "scan", chart, "--set", "adminPassword=hunter2-s3cr3t")
    assert (2, f"ktmb: error: {chart}/templates/guard.yaml:3: cannot render the Helm chart: "
               "refusing password «value»\n") == (done.returncode, done.stderr)


@pytest.mark.skipif(renderer() is None, reason="no kustomize renderer (kustomize or kubectl)")
def test_a_kustomize_overlay_gives_the_rendered_yamls_findings(tmp_path: Path) -> None:
    """An overlay is rendered: its findings are those of its 'kustomize build' output."""
    from_overlay = _scan(tmp_path, OVERLAY)
    from_yaml = _scan(tmp_path, KUSTOMIZE / "prod-rendered.yaml")
    assert _findings(from_yaml) == _findings(from_overlay)
    assert "controls.privileged-container@Deployment/shop-prod/prod-orders#api" in (
        _findings(from_overlay))


def test_a_kustomize_directory_without_a_renderer_is_refused_with_the_pipe_command(
        tmp_path: Path) -> None:
    """No renderer on PATH: one line saying what to pipe, never a plain-file reading."""
    done = ktmb({**_env(tmp_path), "PATH": str(tmp_path)}, "scan", OVERLAY)
    assert (2, f"ktmb: error: {OVERLAY}: a kustomize directory (kustomization.yaml), and no "
               "kustomize renderer is installed here (kustomize or kubectl); render it and "
               f"pipe the output: kustomize build {OVERLAY} | ktmb scan -\n") == (
        done.returncode, done.stderr)


def test_a_remote_kustomize_resource_is_refused(tmp_path: Path) -> None:
    """A kustomization naming a remote base is refused before anything is fetched."""
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "resources:\n  - github.com/example/app//deploy?ref=v1\n", encoding="utf-8")
    done = ktmb({**_env(tmp_path), "PATH": str(tmp_path)}, "scan", overlay)
    assert 2 == done.returncode
    assert done.stderr.startswith(f"ktmb: error: {overlay}: a kustomize directory") or (
        f"{overlay}/kustomization.yaml:2: remote resource" in done.stderr), done.stderr


INVALID = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: good
spec:
  selector: {matchLabels: {app: good}}
  template:
    metadata: {labels: {app: good}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bad
spec:
  replicas: three
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec:
      containers:
        - name: web
          image: "nginx:1.27"
          securityContex: {privileged: true}
"""


def test_invalid_objects_are_reported_with_file_and_line_and_not_analysed(
        tmp_path: Path) -> None:
    """--kube-version: an invalid object is an input problem (file, line), not a finding."""
    manifest = tmp_path / "app.yaml"
    manifest.write_text(INVALID, encoding="utf-8")
    done = ktmb(_env(tmp_path), "scan", manifest, "--kube-version", "1.33", "--format", "json")
    assert 0 == done.returncode, done.stderr
    assert (f"ktmb: warning: {manifest}:17: Deployment/default/bad is not valid for Kubernetes "
            "1.33 (spec.replicas: must be integer); not analysed") in done.stderr.splitlines()
    model = json.loads(done.stdout)
    assert [] == [f["id"] for f in model["findings"] if "Deployment/default/bad" in f["id"]]
    assert any("Deployment/default/good" in f["id"] for f in model["findings"])


def test_an_unknown_field_is_invalid(tmp_path: Path) -> None:
    """A misspelt field (strict schemas) is reported on its line."""
    manifest = tmp_path / "app.yaml"
    manifest.write_text(INVALID.replace("replicas: three", "replicas: 3"), encoding="utf-8")
    done = ktmb(_env(tmp_path), "scan", manifest, "--kube-version", "v1.33.4")
    assert 0 == done.returncode, done.stderr
    assert (f"ktmb: warning: {manifest}:25: Deployment/default/bad is not valid for Kubernetes "
            "1.33 (spec.template.spec.containers.0: Additional properties are not allowed "
            "('securityContex' was unexpected)); not analysed") in done.stderr.splitlines()
