"""Inputs too large to analyse or store are refused up front with one line, before any run.

One pod with 20,000 containers passed every limit: ``scan`` finished, ``run`` failed after
156 s and 2.5 GB in PostgreSQL (``total size of jsonb object elements exceeds the maximum``)
and left a failed run. Small texts that expand (a long scalar behind thousands of aliases, a
long key above a long list) passed too and grew a hundred times in memory and in the run's
first checkpoint.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner, Result

from workflow.cli import app

HUGE_POD_CONTAINERS = 20_000


def _pod(name: str, containers: int) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": f"c{i}", "image": "nginx:1.25"}
                                    for i in range(containers)]}}


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KTMB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KTMB_DEBUG", raising=False)
    for name in ("OBJECT_BYTES", "INPUT_BYTES", "CONTAINERS", "TOTAL_CONTAINERS"):
        monkeypatch.delenv(f"KTMB_MAX_{name}", raising=False)


@pytest.fixture
def huge_pod(tmp_path: Path) -> Path:
    """One pod with 20,000 containers, as JSON (multi-line: the containers are on line 9)."""
    path = tmp_path / "huge.json"
    pod = _pod("huge", HUGE_POD_CONTAINERS)
    path.write_text(json.dumps(pod, indent=1), encoding="utf-8")
    return path


def ktmb(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env={"KTMB_EMBEDDINGS": "off", **(env or {})},
                              catch_exceptions=False)


HUGE_POD_ERROR = ("{path}:9: Pod default/huge has 20,000 containers in one pod spec, over the "
                  "limit of 100 (KTMB_MAX_CONTAINERS)")


def test_scan_refuses_a_pod_with_too_many_containers(huge_pod: Path) -> None:
    """``ktmb scan`` of the 20,000-container pod exits 2 with one line, in seconds."""
    started = time.monotonic()
    result = ktmb("scan", str(huge_pod))
    assert (2, f"ktmb: error: {HUGE_POD_ERROR.format(path=huge_pod)}\n") == (
        result.exit_code, result.stderr)
    assert time.monotonic() - started < 10


@pytest.mark.e2e
def test_run_refuses_a_pod_with_too_many_containers(cli_env: dict[str, str], huge_pod: Path
                                                    ) -> None:
    """``ktmb run`` gives the same one line in seconds and leaves no run behind."""
    started = time.monotonic()
    result = ktmb("run", str(huge_pod), env=cli_env)
    assert (2, f"ktmb: error: {HUGE_POD_ERROR.format(path=huge_pod)}\n") == (
        result.exit_code, result.stderr)
    assert time.monotonic() - started < 20
    with psycopg.connect(cli_env["KTMB_DATABASE_URL"]) as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()}
        runs = conn.execute("SELECT count(*) FROM runs").fetchone() if "runs" in tables else (0,)
    assert (0,) == runs


def test_containers_of_all_pods_together_are_limited(tmp_path: Path) -> None:
    """``KTMB_MAX_TOTAL_CONTAINERS`` counts the containers of every pod spec of the inputs."""
    path = tmp_path / "pods.yaml"
    path.write_text("\n---\n".join(json.dumps(_pod(f"p{i}", 2)) for i in range(3)),
                    encoding="utf-8")
    result = ktmb("scan", str(path), env={"KTMB_MAX_TOTAL_CONTAINERS": "5"})
    assert (2, f"ktmb: error: {path}:5: more than 5 containers in all the inputs "
               "(KTMB_MAX_TOTAL_CONTAINERS)\n") == (result.exit_code, result.stderr)


def test_scalar_alias_bomb_is_refused(tmp_path: Path) -> None:
    """A 10 kB string behind 9,999 aliases (100 MB when stored) is refused as too large."""
    path = tmp_path / "bomb.yaml"
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: bomb}", "data:",
             "  a: &s " + "x" * 10_000, *(f"  k{i}: *s" for i in range(9_999))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = ktmb("scan", str(path))
    assert (2, f"ktmb: error: {path}:1: object is larger than 8,388,608 bytes as loaded "
               "(KTMB_MAX_OBJECT_BYTES)\n") == (result.exit_code, result.stderr)


def test_long_key_above_a_long_list_is_refused(tmp_path: Path) -> None:
    """A 2,000-character key above 100,000 items (a 200 MB index of lines) is refused."""
    path = tmp_path / "keys.yaml"
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n ? " + "k" * 2_000
            + "\n :\n" + "  - 1\n" * 100_000)
    path.write_text(text, encoding="utf-8")
    result = ktmb("scan", str(path))
    assert (2, f"ktmb: error: {path}:1: object is larger than 8,388,608 bytes as loaded "
               "(KTMB_MAX_OBJECT_BYTES)\n") == (result.exit_code, result.stderr)


def test_items_of_a_list_are_objects_of_their_own(tmp_path: Path) -> None:
    """Each item of a List is held to the object limit, not the List as a whole."""
    items = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"},
              "data": {"k": "v" * 3_000}} for i in range(4)]
    path = tmp_path / "list.yaml"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=1),
                    encoding="utf-8")
    accepted = ktmb("scan", str(path), "--out", str(tmp_path / "out.json"),
                    env={"KTMB_MAX_OBJECT_BYTES": "4000"})
    assert 0 == accepted.exit_code, accepted.stderr
    items[2]["data"] = {"k": "v" * 5_000}
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=1),
                    encoding="utf-8")
    refused = ktmb("scan", str(path), env={"KTMB_MAX_OBJECT_BYTES": "4000"})
    assert (2, f"ktmb: error: {path}:25: object is larger than 4,000 bytes as loaded "
               "(KTMB_MAX_OBJECT_BYTES)\n") == (refused.exit_code, refused.stderr)


def test_all_inputs_together_are_limited(tmp_path: Path) -> None:
    """``KTMB_MAX_INPUT_BYTES`` bounds the files of one run together, notes included."""
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for path in (first, second):
        path.write_text(json.dumps(_pod(path.stem, 30), indent=1), encoding="utf-8")
    alone = ktmb("scan", str(first), "--out", str(tmp_path / "out.json"),
                 env={"KTMB_MAX_INPUT_BYTES": "6000"})
    assert 0 == alone.exit_code, alone.stderr
    both = ktmb("scan", str(first), str(second), env={"KTMB_MAX_INPUT_BYTES": "6000"})
    assert 2 == both.exit_code
    assert both.stderr.startswith(f"ktmb: error: {second}:")
    assert both.stderr.endswith(": the inputs are larger than 6,000 bytes as loaded, all "
                                "files together (KTMB_MAX_INPUT_BYTES)\n")
    notes = tmp_path / "notes.md"
    notes.write_text("x" * 6_000, encoding="utf-8")
    with_notes = ktmb("scan", str(first), "--architecture", str(notes),
                      env={"KTMB_MAX_INPUT_BYTES": "6000"})
    assert (2, f"ktmb: error: {notes}: the inputs are larger than 6,000 bytes as loaded, all "
               "files together (KTMB_MAX_INPUT_BYTES)\n") == (with_notes.exit_code,
                                                              with_notes.stderr)


@pytest.mark.parametrize("name", ["OBJECT_BYTES", "INPUT_BYTES", "CONTAINERS",
                                  "TOTAL_CONTAINERS"])
def test_a_limit_must_be_a_positive_number(tmp_path: Path, name: str) -> None:
    """A limit setting that is not a positive whole number is a one-line usage error."""
    path = tmp_path / "pod.json"
    path.write_text(json.dumps(_pod("p", 1)), encoding="utf-8")
    result = ktmb("scan", str(path), env={f"KTMB_MAX_{name}": "0"})
    assert (2, f"ktmb: error: KTMB_MAX_{name} must be a positive whole number, got '0'\n") == (
        result.exit_code, result.stderr)
