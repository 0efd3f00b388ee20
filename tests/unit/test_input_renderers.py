"""Rendered inputs: line placement, Helm values and packaging, kustomize trees, schemas, changes."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from tests.corpus_paths import REPO
from workflow.domain.errors import ConfigError, InventoryError
from workflow.domain.inputs import load_inputs
from workflow.domain.renderers import RenderOptions, kube_version
from workflow.domain.renderers.helm_charts import merge_values
from workflow.domain.renderers.kustomize import renderer
from workflow.domain.renderers.schema_validation import SchemaValidator
from workflow.domain.renderers.source_lines import align_lines
from workflow.domain.run_sources import RunSources, changes
from workflow.domain.settings import Settings
from workflow.domain.threat_model import InputFile

CHART = REPO / "tests" / "fixtures" / "helm" / "onlineboutique"
KUSTOMIZE = REPO / "tests" / "fixtures" / "kustomize"


def test_rendered_lines_are_placed_on_the_template_lines_that_wrote_them() -> None:
    """Literal lines keep their template line; generated ones take their directive's."""
    template = "a: 1\n{{- if .x }}\nb:\n  {{- toYaml .y | nindent 2 }}\n{{- end }}\nc: 3\n"
    rendered = "a: 1\nb:\n  k: v\n  l: w\nc: 3\n"
    assert [1, 3, 4, 4, 6] == align_lines(rendered, template)


def test_helm_values_merge_maps_and_replace_the_rest() -> None:
    """Later values win; maps merge key by key, lists are replaced."""
    assert {"a": {"b": 1, "c": 3}, "l": [9]} == merge_values(
        {"a": {"b": 1, "c": 2}, "l": [1, 2]}, {"a": {"c": 3}, "l": [9]})


def test_set_overrides_values_files(offline_settings: Settings, tmp_path: Path) -> None:
    """--set applies after --values: the external Service comes back."""
    values = tmp_path / "v.yaml"
    values.write_text("frontend:\n  externalService: false\n", encoding="utf-8")
    ids = {r.id for r in load_inputs([CHART], settings=offline_settings, render=RenderOptions(
        values=(values,), set_values=("frontend.externalService=true",))).resources}
    assert "Service/default/frontend-external" in ids


def test_values_without_a_chart_are_refused(offline_settings: Settings) -> None:
    """--values with no chart among the inputs is a usage error, not silently ignored."""
    with pytest.raises(ConfigError, match="no input is a chart"):
        load_inputs([KUSTOMIZE / "prod-rendered.yaml"], settings=offline_settings,
                    render=RenderOptions(set_values=("a=b",)))


def test_a_packaged_chart_is_rendered_under_its_archive_name(offline_settings: Settings,
                                                             tmp_path: Path) -> None:
    """A .tgz renders like its directory; files are named inside the archive."""
    archive = tmp_path / "onlineboutique-0.10.6.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(CHART, arcname="onlineboutique")
    loaded = load_inputs([archive], settings=offline_settings)
    assert {f"{archive}!/templates/cartservice.yaml", f"{archive}!/templates/frontend.yaml"} == {
        f.path for f in loaded.files}


def test_a_symlink_out_of_the_chart_is_refused(offline_settings: Settings,
                                               tmp_path: Path) -> None:
    """A chart cannot read files of the machine through a symbolic link."""
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n")
    os.symlink("/etc/passwd", chart / "passwd")
    with pytest.raises(InventoryError, match="a symbolic link out of the Helm chart"):
        load_inputs([chart], settings=offline_settings)


def test_the_kube_version_reaches_the_chart(offline_settings: Settings,
                                            tmp_path: Path) -> None:
    """Templates see --kube-version as .Capabilities.KubeVersion."""
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
        "data:\n  version: {{ .Capabilities.KubeVersion.Version | quote }}\n")
    loaded = load_inputs([chart], settings=offline_settings,
                         render=RenderOptions(kube_version="1.29"))
    assert {"version": "v1.29.0"} == loaded.resources[0].raw["data"]


@pytest.mark.skipif(renderer() is None, reason="no kustomize renderer (kustomize or kubectl)")
def test_a_tree_renders_its_overlays_not_their_bases(offline_settings: Settings) -> None:
    """In a walked tree the base is rendered through its overlay, never on its own."""
    loaded = load_inputs([KUSTOMIZE / "overlays"], settings=offline_settings)
    assert ["ConfigMap", "Deployment", "NetworkPolicy", "Service"] == sorted(
        r.kind for r in loaded.resources)
    assert {"shop-prod"} == {r.namespace for r in loaded.resources}


@pytest.mark.parametrize(("given", "expected"), [("1.33", "1.33"), ("v1.30.2", "1.30")])
def test_kube_versions_are_major_and_minor(given: str, expected: str) -> None:
    """--kube-version takes 1.33, v1.33 or 1.33.2."""
    assert expected == kube_version(given)


@pytest.mark.parametrize("version", ["1.19", "1.99"])
def test_versions_without_schemas_are_refused(version: str) -> None:
    """A version kubernetes-validate carries no schemas for is a usage error."""
    with pytest.raises(ConfigError, match=f"--kube-version {version}"):
        SchemaValidator(version)


def test_custom_resources_are_not_validated() -> None:
    """A kind without a schema passes (kept, not analysed, as before)."""
    validator = SchemaValidator("1.33")
    assert validator.problem({"apiVersion": "example.com/v1", "kind": "Widget",
                              "metadata": {"name": "w"}, "spec": {"anything": 1}}) is None


def _file(path: str, sha: str, role: str = "manifest") -> InputFile:
    return InputFile.model_validate({"path": path, "sha256": sha, "role": role})


def test_changes_name_each_file_the_profile_and_the_knowledge_base() -> None:
    """Every difference is one line; none when all is the same."""
    old = [_file("a.yaml", "1"), _file("b.yaml", "2"), _file("notes.md", "3", "architecture")]
    new = [_file("a.yaml", "1"), _file("c.yaml", "4"), _file("notes.md", "5", "architecture")]
    same = RunSources(profile_sha256="p", kb_digest="k")
    assert [] == changes(old, same, old, same)
    assert ["manifest removed: b.yaml", "manifest added: c.yaml", "notes changed: notes.md",
            "profile changed", "knowledge base changed"] == changes(
        old, same, new, RunSources(profile_sha256="q", kb_digest="l"))
    assert ["profile and knowledge base: not recorded for the earlier run"] == changes(
        old, None, old, same)
