"""The GitHub Action (``action.yml``): its steps' commands, run as a runner runs them.

A composite action's ``run:`` steps are bash scripts with ``${{ ... }}`` expressions that the
runner fills in. This test fills them the same way (inputs, ``github.workspace``), runs each
script with ``bash --noprofile --norc -eo pipefail`` (the runner's bash) in a fake workspace
with a fake ``GITHUB_ACTION_PATH``, ``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY``, and checks
what the job would get. No network: ``python`` is a stand-in that records the install
command (ktmb is installed here already), and ``ktmb`` runs this checkout's code.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.github_sarif import github_problems

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
MANIFESTS = REPO / "examples" / "payments" / "manifests"
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _step(name: str) -> dict[str, Any]:
    step: dict[str, Any] = next(s for s in ACTION["runs"]["steps"] if s.get("name") == name)
    return step


def _fill(text: str, inputs: dict[str, str], workspace: Path) -> str:
    """The runner's expression substitution, for the expressions the action uses."""
    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression == "github.workspace":
            return str(workspace)
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        raise AssertionError(f"unexpected expression in a run step: {expression}")
    return EXPRESSION.sub(value, text)


class Runner:
    """A fake runner: workspace, action path, the files a step writes to, the tools on PATH."""

    def __init__(self, tmp_path: Path) -> None:
        self.workspace = tmp_path / "workspace"
        self.workspace.mkdir()
        self.action_path = tmp_path / "_actions" / "ktmb"
        self.action_path.mkdir(parents=True)
        self.output = tmp_path / "github_output"
        self.summary = tmp_path / "step_summary"
        self.installs = tmp_path / "pip_installs"
        self.tools = tmp_path / "tools"
        self.tools.mkdir()
        self.home = tmp_path / "ktmb-home"
        (self.tools / "python").write_text(
            f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{self.installs}"\n', encoding="utf-8")
        (self.tools / "ktmb").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m workflow "$@"\n',
                                         encoding="utf-8")
        for tool in self.tools.iterdir():
            tool.chmod(0o755)

    def run(self, name: str, **overrides: str) -> subprocess.CompletedProcess[str]:
        """Run the step ``name`` with the action's default inputs and these overrides."""
        inputs = {key: str(spec.get("default", "")) for key, spec in ACTION["inputs"].items()}
        inputs.update({key.replace("_", "-"): value for key, value in overrides.items()})
        step = _step(name)
        assert "bash" == step["shell"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("KTMB_")}
        env.update({_fill(k, inputs, self.workspace): _fill(str(v), inputs, self.workspace)
                    for k, v in step.get("env", {}).items()})
        env.update({"PATH": f"{self.tools}{os.pathsep}{env['PATH']}",
                    "GITHUB_ACTION_PATH": str(self.action_path),
                    "GITHUB_WORKSPACE": str(self.workspace),
                    "GITHUB_OUTPUT": str(self.output), "GITHUB_STEP_SUMMARY": str(self.summary),
                    "KTMB_HOME": str(self.home), "KTMB_EMBEDDINGS": "off"})
        cwd = _fill(step.get("working-directory", str(self.workspace)), inputs, self.workspace)
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                               _fill(step["run"], inputs, self.workspace)],
                              cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                              check=False)

    def outputs(self) -> dict[str, str]:
        """What the step wrote to GITHUB_OUTPUT."""
        lines = self.output.read_text(encoding="utf-8").splitlines()
        return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    """A runner whose workspace holds the payments example under deploy/k8s/."""
    made = Runner(tmp_path)
    shutil.copytree(MANIFESTS, made.workspace / "deploy" / "k8s")
    return made


def test_the_action_is_composite_with_documented_inputs_and_outputs() -> None:
    """Inputs for paths, fail-on, format and output; outputs for the report and exit code."""
    assert "composite" == ACTION["runs"]["using"]
    assert {"paths", "fail-on", "format", "output", "rules", "skip-rules", "app",
            "step-summary", "python-version"} == set(ACTION["inputs"])
    assert ("sarif", "high", "ktmb.sarif") == (
        ACTION["inputs"]["format"]["default"], ACTION["inputs"]["fail-on"]["default"],
        ACTION["inputs"]["output"]["default"])
    assert {"report", "exit-code"} == set(ACTION["outputs"])
    assert [{"uses": "actions/setup-python@v5",
             "with": {"python-version": "${{ inputs.python-version }}"}}] == [
        s for s in ACTION["runs"]["steps"] if "uses" in s]


def test_install_step_installs_ktmb_from_the_action_path(runner: Runner) -> None:
    """The install step pip-installs the action's own checkout."""
    done = runner.run("Install ktmb")
    assert 0 == done.returncode, done.stderr
    assert ["-m", "pip", "install", "--disable-pip-version-check", "--quiet",
            str(runner.action_path)] == runner.installs.read_text(encoding="utf-8").splitlines()


def test_scan_step_writes_sarif_and_fails_on_high(runner: Runner) -> None:
    """Default inputs: SARIF that GitHub accepts, paths relative to the repository, exit 5."""
    done = runner.run("Scan", paths="deploy/k8s")
    assert 5 == done.returncode, done.stderr
    assert {"report": "ktmb.sarif", "exit-code": "5"} == runner.outputs()
    text = (runner.workspace / "ktmb.sarif").read_text(encoding="utf-8")
    assert [] == github_problems(text)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(text)["runs"][0]["results"]}
    assert "deploy/k8s/10-api.yaml" in uris
    assert "findings at or above high: failing (--fail-on)" in done.stderr
    summary = runner.summary.read_text(encoding="utf-8")
    assert summary.startswith("### ktmb threat model\n\n```\nthreat model of workspace: ")
    assert "FAIL-ON  SEVERITY  RULE" in summary
    assert "\n--fail-on high: FAILED: " in summary
    assert summary.endswith("```\n")


def test_scan_step_passes_its_inputs(runner: Runner) -> None:
    """JUnit to a chosen file, selected rules, no gate: exit 0, no step summary when asked."""
    done = runner.run("Scan", paths="deploy/k8s/10-api.yaml deploy/k8s/30-worker.yaml",
                      format="junit", output="reports/ktmb.xml", fail_on="",
                      rules="controls.*", skip_rules="controls.run-as-root", app="pay",
                      step_summary="false")
    assert 2 == done.returncode  # the reports/ directory does not exist yet
    assert "reports/ktmb.xml: cannot write" in done.stderr
    (runner.workspace / "reports").mkdir()
    runner.output.unlink()
    done = runner.run("Scan", paths="deploy/k8s/10-api.yaml deploy/k8s/30-worker.yaml",
                      format="junit", output="reports/ktmb.xml", fail_on="",
                      rules="controls.*", skip_rules="controls.run-as-root", app="pay",
                      step_summary="false")
    assert 0 == done.returncode, done.stderr
    assert {"report": "reports/ktmb.xml", "exit-code": "0"} == runner.outputs()
    report = (runner.workspace / "reports" / "ktmb.xml").read_text(encoding="utf-8")
    classes = set(re.findall(r'classname="([^"]+)"', report))
    assert classes and all(c.startswith("controls.") for c in classes)
    assert "controls.run-as-root" not in classes
    assert 'name="ktmb threat model of pay"' in report
    assert not runner.summary.exists()


def test_scan_step_reports_bad_input_as_exit_2(runner: Runner) -> None:
    """A rule pattern that matches nothing fails the step with ktmb's one line, exit 2."""
    done = runner.run("Scan", paths="deploy/k8s", rules="no-such-rule")
    assert 2 == done.returncode
    assert "ktmb: error: --rules: no rule matches 'no-such-rule'" in done.stderr
    assert "2" == runner.outputs()["exit-code"]
    assert not runner.summary.exists()
