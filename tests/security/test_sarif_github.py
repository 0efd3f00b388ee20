"""SARIF that GitHub code scanning accepts in every case, through the real ``ktmb scan``.

The issue's measure: the SARIF of standard input and of 5,000 objects validates against the
SARIF 2.1.0 schema and GitHub's documented limits (:mod:`tests.github_sarif`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agents.catalogue import rule_meta
from tests.github_sarif import MAX_TAGS, github_problems, write_large_app
from tests.security.cli_process import MANIFESTS, REPO, ktmb

pytestmark = pytest.mark.e2e


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "KTMB_HOME": str(tmp_path / "home")}
    env.pop("KTMB_DATABASE_URL", None)
    return env


def _stdin_of(path: Path, tmp_path: Path) -> Path:
    """One file holding every manifest under ``path``, as ``kustomize build`` would print."""
    joined = tmp_path / "stdin.yaml"
    joined.write_text("\n---\n".join(p.read_text(encoding="utf-8")
                                     for p in sorted(path.rglob("*.yaml"))), encoding="utf-8")
    return joined


def _scan_sarif(tmp_path: Path, *args: str | Path, stdin: Path | None = None) -> str:
    out = tmp_path / "out.sarif"
    if stdin is None:
        done = ktmb(_env(tmp_path), "scan", *args, "--format", "sarif", "--out", out)
    else:
        with stdin.open("rb") as source:
            done = _ktmb_stdin(_env(tmp_path), source, "scan", "-", *args, "--format", "sarif",
                               "--out", out)
    assert 0 == done.returncode, done.stderr
    return out.read_text(encoding="utf-8")


def _ktmb_stdin(env: dict[str, str], source: Any, *args: str | Path
                ) -> subprocess.CompletedProcess[str]:
    """``ktmb ARGS`` reading ``source`` as its standard input."""
    return subprocess.run([sys.executable, "-m", "workflow", *map(str, args)], stdin=source,
                          env={"KTMB_EMBEDDINGS": "off", **env}, cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=False)


def test_sarif_of_standard_input_is_accepted_by_github(tmp_path: Path) -> None:
    """Standard input: valid, within GitHub's limits, every result in a stated pseudo-file."""
    text = _scan_sarif(tmp_path, stdin=_stdin_of(Path(MANIFESTS), tmp_path))
    assert [] == github_problems(text)
    run = json.loads(text)["runs"][0]
    assert {"ktmb-stdin.yaml"} == {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert [{"location": {"uri": "ktmb-stdin.yaml", "uriBaseId": "%SRCROOT%"},
             "description": {"text": "Standard input: no file of this name exists; ktmb "
                                     "names the manifests it read from standard input so."},
             "roles": ["analysisTarget"]}] == run["artifacts"]


@pytest.mark.parametrize("source", ["files", "stdin"])
def test_sarif_of_5000_objects_is_accepted_by_github(tmp_path: Path, source: str) -> None:
    """5,000 objects, from files given by absolute path or from standard input, pass GitHub."""
    app = write_large_app(tmp_path / "estate")
    if source == "files":
        text = _scan_sarif(tmp_path, app)
    else:
        text = _scan_sarif(tmp_path, stdin=_stdin_of(app, tmp_path))
    assert [] == github_problems(text)
    assert str(tmp_path) not in text


def test_rule_short_description_is_the_rules_title(tmp_path: Path) -> None:
    """A rule is described by its catalogue title, not by the title of its first finding."""
    run = json.loads(_scan_sarif(tmp_path, MANIFESTS))["runs"][0]
    described = {r["id"]: r["shortDescription"]["text"] for r in run["tool"]["driver"]["rules"]}
    titles = {rid: meta.title for rid in described if (meta := rule_meta(rid)) is not None}
    assert titles == {rid: text for rid, text in described.items()
                      if not rid.startswith("attack-path/")}
    assert "identity.automount-with-rights" in described


def test_rules_have_at_most_ten_tags(tmp_path: Path) -> None:
    """GitHub shows ten tags of a rule: ktmb writes no more."""
    run = json.loads(_scan_sarif(tmp_path, MANIFESTS))["runs"][0]
    assert {} == {r["id"]: len(r["properties"]["tags"]) for r in run["tool"]["driver"]["rules"]
                  if len(r["properties"]["tags"]) > MAX_TAGS}


def test_no_absolute_local_path(tmp_path: Path) -> None:
    """Manifests named by absolute path outside the working directory leave no local path."""
    copy = tmp_path / "repo" / "deploy"
    shutil.copytree(MANIFESTS, copy)
    text = _scan_sarif(tmp_path, copy)
    assert str(tmp_path) not in text
    assert "file://" not in text
    run = json.loads(text)["runs"][0]
    assert "originalUriBaseIds" not in run
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in run["results"]}
    assert {"10-api.yaml", "30-worker.yaml"} <= uris
