"""Every example in README.md runs as written (or is skipped here for a stated reason).

The README's ``bash`` blocks are run command by command through the real ``ktmb`` process, in
a workspace holding ``examples/`` and what the examples name (``deploy/``, ``main.json``); its
``yaml`` blocks are the files those commands read; its ``text`` blocks are synopses, whose
commands and options must exist. A block the test does not know fails it: a new example gets a
row in ``BLOCKS``, keyed by the start of its first line (run it, or say why it cannot run here).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from markdown_it import MarkdownIt

from tests.security.cli_process import EXAMPLE, REPO, ktmb
from workflow.cli import app

pytestmark = pytest.mark.e2e

README = REPO / "README.md"


@dataclass(frozen=True)
class Block:
    """What the test does with one README block, known by its first line."""

    kind: str  # "run", "file", "synopsis" or "skip"
    #: run: the exit code of each ktmb command in order; file: its name in the workspace.
    codes: tuple[int, ...] = ()
    name: str = ""
    reason: str = ""
    #: run: the commands that are not ktmb's, each with why it is not run here.
    not_run: dict[str, str] = field(default_factory=dict)


INSTALL = "installs ktmb into a new virtualenv (network, minutes); the test runs the installed ktmb"
BLOCKS = {
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/ktmb run examples/":
        Block("run", codes=(0,), not_run={"python3": INSTALL, ".venv/bin/pip": INSTALL}),
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev,embeddings,llamacpp,helm]'":
        Block("skip", reason="installs every extra (builds llama-cpp-python, about 12 minutes) "
                             "and runs this test suite itself"),
    "ktmb run PATH... [--app NAME] [--architecture FILE]... [--approval none|each|changed|PHA":
        Block("synopsis"),
    "ktmb scan deploy/ --format sarif --out ktmb.sarif --fail-on high     # in CI":
        Block("run", codes=(5, 0, 0, 0)),  # the example has high findings: the CI gate fails;
    # against main.json (the same manifests) nothing is new: the baseline gate passes
    "name: payments                      # default of --app": Block("file", name="ktmb.yaml"),
    "suppressions:": Block("file", name="ktmb-suppressions.yaml"),
    "metadata:": Block("file", name="annotations.yaml"),
    "ktmb scan deploy/ --out main.json                                    # on the main branch":
        Block("run", codes=(0, 0)),
    "ktmb scan deploy/ --rules 'controls.*,identity.*' --skip-rules controls.image-not-pinned":
        Block("run", codes=(0, 5)),  # no gate, then the critical findings fail the gate
    "ktmb scan deploy/ --out threat-model.json": Block("run", codes=(0, 0, 0)),
    "# .github/workflows/threat-model.yml": Block("file", name="threat-model.yml"),
    "# .pre-commit-config.yaml": Block("file", name="pre-commit-config.yaml"),
    "ktmb run examples/payments/manifests --approval controls   # exit 3: waits after control":
        Block("run", codes=(3, 0, 0)),
    "edits:": Block("file", name="edits.yaml"),
    "ktmb kb ingest PATH... --collection NAME [--group GROUP...]   # Markdown, text, PDF, HTM":
        Block("synopsis"),
    "export KTMB_DB_PASSWORD=... KTMB_REDACTION_KEY=...":
        Block("skip", reason="starts the Docker Compose stack (Docker, images and Ollama models "
                             "from the network)"),
}


def _blocks() -> list[tuple[str, str]]:
    """(language, text) of every fenced bash, yaml or text block of the README."""
    tokens = MarkdownIt().parse(README.read_text(encoding="utf-8"))
    return [(t.info.strip(), t.content) for t in tokens
            if t.type == "fence" and t.info.strip() in {"bash", "yaml", "text"}]


def _key(text: str) -> str:
    """The row of a block: the ``BLOCKS`` key its first line starts with (else that line)."""
    first = text.splitlines()[0]
    return next((key for key in BLOCKS if first.startswith(key)), first)


def _commands(text: str) -> list[list[str]]:
    """The commands of a bash block: one per line, or per ``&&``; comments dropped."""
    commands: list[list[str]] = []
    for line in text.splitlines():
        current: list[str] = []
        for token in shlex.split(line, comments=True):
            if token == "&&":
                commands.append(current)
                current = []
            else:
                current.append(token)
        if current:
            commands.append(current)
    return commands


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A directory with ``examples/``, a ``deploy/`` to scan, a ``main.json`` to compare with,
    and the README's files (``edits.yaml``)."""
    (tmp_path / "examples").symlink_to(REPO / "examples", target_is_directory=True)
    shutil.copytree(EXAMPLE / "manifests", tmp_path / "deploy")
    for language, text in _blocks():
        block = BLOCKS.get(_key(text))
        if language == "yaml" and block is not None and block.kind == "file":
            (tmp_path / block.name).write_text(text, encoding="utf-8")
    return tmp_path


def test_every_example_is_known() -> None:
    """Each bash, yaml and text block of the README has a row here (run it or say why not)."""
    unknown = [_key(text) for _, text in _blocks() if _key(text) not in BLOCKS]
    assert [] == unknown
    missing = sorted(set(BLOCKS) - {_key(text) for _, text in _blocks()})
    assert [] == missing


@pytest.mark.parametrize("key", [k for k, b in BLOCKS.items() if b.kind == "run"])
def test_bash_example_runs(key: str, workspace: Path, cli_env: dict[str, str]) -> None:
    """The example's ktmb commands exit as documented (RUN_ID: the id the run printed)."""
    block = BLOCKS[key]
    text = next(t for _, t in _blocks() if _key(t) == key)
    (workspace / "main.json").write_text(
        ktmb(cli_env, "scan", EXAMPLE / "manifests").stdout, encoding="utf-8")
    codes: list[int] = []
    run_id = ""
    for command in _commands(text):
        program = command[0]
        if program not in {"ktmb", ".venv/bin/ktmb"}:
            assert program in block.not_run, f"{program}: run it or say why it is not run"
            continue
        args = [run_id if arg == "RUN_ID" else arg for arg in command[1:]]
        done = ktmb(cli_env, *args, cwd=workspace)
        assert "Traceback" not in done.stderr, done.stderr
        codes.append(done.returncode)
        if args[0] == "run":
            run_id = done.stdout.splitlines()[0]
        assert done.returncode == block.codes[len(codes) - 1], (command, done.stderr)
    assert list(block.codes) == codes


def test_edits_example_changes_the_model(workspace: Path, cli_env: dict[str, str]) -> None:
    """The README's edits.yaml, approved at the controls gate, is in the final model."""
    started = ktmb(cli_env, "run", "examples/payments/manifests", "--approval", "controls",
                   cwd=workspace)
    assert 3 == started.returncode, started.stderr
    run_id = started.stdout.splitlines()[0]
    approved = ktmb(cli_env, "approve", run_id, "--edits", "edits.yaml", cwd=workspace)
    assert 0 == approved.returncode, approved.stderr
    model = json.loads(ktmb(cli_env, "show", run_id).stdout)
    found = {f["id"]: f for f in model["findings"]}
    settle = found["controls.privileged-container@CronJob/payments/settlement#settle"]
    assert ("critical", ["Confirmed with the platform team."]) == (
        settle["severity"], [n["text"] for n in settle["notes"]])
    assert "accepted" == found["controls.image-mutable-tag@Deployment/payments/payments-api"
                               "#api"]["status"]
    assert "controls.no-admission-policy@Cluster/admission" not in found


def test_profile_suppressions_and_annotations_examples_are_valid(workspace: Path) -> None:
    """The README's profile, suppressions file and annotations read without a mistake."""
    from workflow.domain.profile_loader import read_profile
    from workflow.domain.safe_yaml import Limits
    from workflow.domain.settings import Settings
    from workflow.domain.suppressions import annotation_suppressions, read_suppressions

    limits = Limits.of(Settings(home=workspace))
    profile = read_profile("ktmb.yaml", (workspace / "ktmb.yaml").read_text(encoding="utf-8"),
                           limits)
    assert ("payments", 9) == (profile.profile.name, len(profile.profile.answers.given()))
    entries = read_suppressions("s.yaml", (workspace / "ktmb-suppressions.yaml").read_text(
        encoding="utf-8"), limits)
    assert 2 == len(entries)
    from workflow.domain.inputs import load_inputs

    manifest = workspace / "annotated.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\n" + (
        workspace / "annotations.yaml").read_text(encoding="utf-8").replace(
        "metadata:\n", "metadata:\n  name: x\n"), encoding="utf-8")
    inputs = load_inputs([manifest], settings=Settings(home=workspace / "h"))
    assert [("controls.run-as-root", "team-payments"),
            ("controls.writable-root-filesystem", "team-payments")] == [
        (s.entry.rule, s.entry.owner) for s in annotation_suppressions(inputs.resources)]


def _command_options(command: Any, path: list[str]) -> set[str] | None:
    """The options of the command at ``path`` (None when it does not exist)."""
    current = command
    for name in path:
        commands = getattr(current, "commands", {})
        if name not in commands:
            return None
        current = commands[name]
    return {opt for param in current.params for opt in (*param.opts, *param.secondary_opts)}


@pytest.mark.parametrize("key", [k for k, b in BLOCKS.items() if b.kind == "synopsis"])
def test_synopsis_names_real_commands_and_options(key: str) -> None:
    """Every command and option a synopsis shows is one the parser accepts."""
    text = next(t for _, t in _blocks() if _key(t) == key)
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if raw[:1].isspace() and lines:
            lines[-1] += " " + line.strip()
        elif line:
            lines.append(line)
    root = typer.main.get_command(app)
    problems = []
    for line in lines:
        for segment in re.split(r"(?<![\w./-])(?=ktmb )", line):
            words = segment.strip(" |").split()
            if not words:
                continue
            group = words[1] if words[1] in {"kb", "triage"} else None
            names = words[2].split("|") if group else [words[1]]
            for name in names:
                path = [group, name] if group else [name]
                options = _command_options(root, path)
                if options is None:
                    problems.append(f"no command: ktmb {' '.join(path)}")
                    continue
                shown = set(re.findall(r"--[a-z][a-z-]*", segment)) if len(names) == 1 else set()
                problems += [f"ktmb {' '.join(path)}: no option {o}"
                             for o in sorted(shown - options)]
    assert [] == problems


def _yaml_block(key: str) -> Any:
    text = next(t for language, t in _blocks() if language == "yaml" and _key(t) == key)
    return yaml.safe_load(text)


def test_workflow_example_uses_the_actions_inputs_and_outputs() -> None:
    """The README's workflow gives the action only inputs it declares and uploads its report."""
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    steps = _yaml_block("# .github/workflows/threat-model.yml")["jobs"]["ktmb"]["steps"]
    ours = next(s for s in steps if s.get("id") == "ktmb")
    assert set(ours["with"]) <= set(action["inputs"])
    upload = next(s for s in steps if s["uses"].startswith("github/codeql-action/upload-sarif"))
    assert "${{ steps.ktmb.outputs.report }}" == upload["with"]["sarif_file"]
    assert "report" in action["outputs"]
    assert upload["if"].startswith("always()")


def test_pre_commit_example_names_the_declared_hook() -> None:
    """The README's .pre-commit-config.yaml uses the hook .pre-commit-hooks.yaml declares."""
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    used = [hook["id"] for repo in _yaml_block("# .pre-commit-config.yaml")["repos"]
            for hook in repo["hooks"]]
    assert ["ktmb-scan"] == used
    assert {"ktmb-scan"} == {hook["id"] for hook in hooks}
