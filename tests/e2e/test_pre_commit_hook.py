"""The pre-commit hook (``.pre-commit-hooks.yaml``): its entry run on staged-like files.

pre-commit runs a hook's ``entry`` with the staged files that match its ``files`` pattern as
arguments, in the repository's root, and fails the commit on a non-zero exit. This test
selects the files the same way from a fake repository and runs the entry (``ktmb`` being this
checkout's ``python -m workflow``).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
HOOK: dict[str, Any] = HOOKS[0]
MANIFESTS = REPO / "examples" / "payments" / "manifests"
HARDENED = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\n"
            "data: {mode: quiet}\n")


def _repository(root: Path) -> list[str]:
    """A repository's staged files: manifests, a workflow, pre-commit's config, docs."""
    (root / "k8s").mkdir(parents=True)
    (root / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(MANIFESTS / "30-worker.yaml", root / "k8s" / "worker.yaml")
    (root / "k8s" / "settings.yaml").write_text(HARDENED, encoding="utf-8")
    (root / ".github" / "workflows" / "ci.yml").write_text(
        "on: push\njobs: {}\n", encoding="utf-8")
    (root / ".pre-commit-config.yaml").write_text("repos: []\n", encoding="utf-8")
    (root / "package.json").write_text('{"name": "shop"}\n', encoding="utf-8")
    (root / "README.md").write_text("# shop\n", encoding="utf-8")
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _run_hook(root: Path, staged: list[str]) -> subprocess.CompletedProcess[str]:
    """The hook's entry with the staged files its ``files`` pattern selects."""
    selected = [name for name in staged if re.search(HOOK["files"], name)]
    command = shlex.split(HOOK["entry"])
    assert "ktmb" == command[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KTMB_")}
    env.update({"KTMB_HOME": str(root.parent / "ktmb-home"), "KTMB_EMBEDDINGS": "off"})
    return subprocess.run([sys.executable, "-m", "workflow", *command[1:], *selected],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_the_hook_is_declared_as_documented() -> None:
    """One hook, ktmb-scan: a python hook scanning YAML and JSON files, failing on high."""
    assert ["ktmb-scan"] == [hook["id"] for hook in HOOKS]
    assert "python" == HOOK["language"]
    assert HOOK["entry"].startswith("ktmb scan --fail-on high")
    assert r"\.(ya?ml|json)$" == HOOK["files"]
    assert HOOK["require_serial"] is True
    chosen = [name for name in ("a.yaml", "b.yml", "c.json", "d.md", "e.yaml.bak")
              if re.search(HOOK["files"], name)]
    assert ["a.yaml", "b.yml", "c.json"] == chosen


def test_staged_manifests_with_high_findings_fail_the_commit(tmp_path: Path) -> None:
    """The privileged worker fails the hook; other YAML is skipped; the table says why."""
    root = tmp_path / "shop"
    done = _run_hook(root, _repository(root))
    assert 5 == done.returncode, done.stderr
    assert done.stdout.startswith("threat model of shop: ")
    assert "controls.privileged-container" in done.stdout
    assert "k8s/worker.yaml:" in done.stdout
    assert "\n--fail-on high: FAILED: " in done.stdout
    for skipped in (".github/workflows/ci.yml", ".pre-commit-config.yaml", "package.json"):
        assert f"ktmb: warning: {skipped}: skipped, not Kubernetes manifests" in done.stderr


def test_hardened_manifests_pass(tmp_path: Path) -> None:
    """Only a harmless ConfigMap staged (with other YAML): the hook passes."""
    root = tmp_path / "shop"
    staged = [name for name in _repository(root) if name != "k8s/worker.yaml"]
    done = _run_hook(root, staged)
    assert 0 == done.returncode, done.stdout + done.stderr
    assert "--fail-on high: passed: no finding at or above high" in done.stdout


def test_no_manifest_staged_passes(tmp_path: Path) -> None:
    """A commit of workflow files only: nothing to scan, exit 0."""
    root = tmp_path / "shop"
    staged = [name for name in _repository(root) if not name.startswith("k8s/")]
    done = _run_hook(root, staged)
    assert 0 == done.returncode, done.stderr
    assert "ktmb scan: no Kubernetes manifests among the files; nothing to scan" in done.stderr
    assert "" == done.stdout
