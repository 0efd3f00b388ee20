"""A living threat model end to end: two versions of an application through the real CLI.

Version 1 of ``tests/fixtures/living`` (an internet-facing shop with NetworkPolicies) is run
with gates; the reviewer accepts two findings and marks one a false positive. Version 2 adds a
privileged container, removes the NetworkPolicies and changes an accepted finding's evidence
(the image tag), and is run after one acceptance expired. The run of version 2 is compared with
the run of version 1 (its default baseline) and stops only at the phases that changed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from workflow.cli import app

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
V1 = str(REPO / "tests" / "fixtures" / "living" / "v1")
V2 = str(REPO / "tests" / "fixtures" / "living" / "v2")
WEB_IMAGE = "controls.image-not-pinned@Deployment/shop/web#web"
API_IMAGE = "controls.image-not-pinned@Deployment/shop/api#api"
BALANCER = "network.loadbalancer-service@Service/shop/web"
ALLOW_ALL = "network.allow-all-ingress@NetworkPolicy/shop/web-public#0"
#: The namespace enforces only the privileged level (it warns at restricted): a finding of both
#: versions that no triage touches.
NO_PSA = "controls.namespace-without-psa@Namespace/shop"
PATH_TO_NODE = "risk_review.path-to-node@Node/any"
#: The attack paths version 2 opens: from each pod (the policy that isolated them is gone) to
#: the node through the privileged container. None from the internet: the public load balancer
#: is a false positive in the baseline's triage, and its steps go with it.
NEW_PATHS = {"Deployment/shop/web=>Node/any", "Deployment/shop/api=>Node/any"}
#: After the API image's acceptance (until 2030-01-31) has expired.
LATER = "2030-06-01"


def ktmb(env: dict[str, str], *args: str, today: str | None = None) -> Result:
    """The CLI in-process (knowledge-base embeddings off), optionally on another day."""
    extra = {"KTMB_TEST_TODAY": today} if today else {}
    return CliRunner().invoke(app, list(args), env={"KTMB_EMBEDDINGS": "off", **env, **extra},
                              catch_exceptions=False)


def _run_id(result: Result) -> str:
    return result.stdout.strip().splitlines()[0]


def _model(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _by_state(model: dict[str, Any]) -> dict[str, set[str]]:
    states: dict[str, set[str]] = {"new": set(), "changed": set(), "unchanged": set()}
    for finding in model["findings"]:
        states[finding["baseline"]["state"]].add(finding["id"])
    states["resolved"] = {r["id"] for r in model["baseline"]["resolved"]}
    states["reopened"] = {f["id"] for f in model["findings"] if f.get("triage")
                          and f["triage"]["state"] != "applied"}
    return states


def _edits(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def first_run(cli_env: dict[str, str], tmp_path: Path) -> tuple[str, Path]:
    """Version 1, reviewed at the network and controls gates; its run id and model file."""
    out = tmp_path / "v1.json"
    started = ktmb(cli_env, "run", V1, "--approval", "network,controls", "--out", str(out))
    assert 3 == started.exit_code, started.stderr
    run_id = _run_id(started)
    network = ktmb(cli_env, "approve", run_id, "--by", "ann", "--edits", _edits(
        tmp_path, "network.yaml",
        f"edits:\n  - id: {BALANCER}\n    status: false_positive\n"
        "    note: The shop is public by design.\n"))
    assert 3 == network.exit_code, network.stderr
    controls = ktmb(cli_env, "approve", run_id, "--by", "ann", "--edits",
                    _edits(tmp_path, "controls.yaml",
                           f"edits:\n  - id: {WEB_IMAGE}\n    status: accepted\n"
                           "    owner: team-shop\n    reason: Tags are immutable here.\n"
                           "    expires: 2099-12-31\n"
                           f"  - id: {API_IMAGE}\n    status: accepted\n"
                           "    owner: team-shop\n    reason: Until the digest rollout.\n"
                           "    expires: 2030-01-31\n"))
    assert 0 == controls.exit_code, controls.stderr
    shown = ktmb(cli_env, "show", run_id)
    out.write_text(shown.stdout, encoding="utf-8")
    return run_id, out


def test_triage_carries_over_to_the_next_run(cli_env: dict[str, str], tmp_path: Path,
                                             first_run: tuple[str, Path]) -> None:
    """An unchanged application's next run keeps every decision, unchanged, without stopping."""
    first, _ = first_run
    out = tmp_path / "again.json"
    again = ktmb(cli_env, "run", V1, "--approval", "changed", "--out", str(out))
    assert 0 == again.exit_code, again.stderr
    model = _model(out)
    statuses = {f["id"]: (f["status"], f["triage"]["source"], f["triage"]["run_id"])
                for f in model["findings"] if f.get("triage")}
    assert {BALANCER: ("false_positive", "review", first),
            WEB_IMAGE: ("accepted", "review", first),
            API_IMAGE: ("accepted", "review", first)} == statuses
    assert ["The shop is public by design."] == [
        n["text"] for f in model["findings"] if f["id"] == BALANCER for n in f["notes"]]
    assert {"new": set(), "changed": set(), "resolved": set(), "reopened": set(),
            "unchanged": {BALANCER, WEB_IMAGE, API_IMAGE, ALLOW_ALL, NO_PSA}} == _by_state(model)
    assert first == model["baseline"]["run_id"]


def test_triage_survives_a_rerun(cli_env: dict[str, str], first_run: tuple[str, Path]) -> None:
    """Rerunning phases of a run re-applies the decisions the run started with."""
    again = ktmb(cli_env, "run", V1)
    assert 0 == again.exit_code, again.stderr
    run_id = _run_id(again)
    rerun = ktmb(cli_env, "rerun", run_id, "--from", "network")
    assert 0 == rerun.exit_code, rerun.stderr
    model = json.loads(ktmb(cli_env, "show", run_id).stdout)
    assert {BALANCER: "false_positive", WEB_IMAGE: "accepted", API_IMAGE: "accepted"} == {
        f["id"]: f["status"] for f in model["findings"] if f["status"] != "open"}


def test_the_second_version_against_the_first(cli_env: dict[str, str], tmp_path: Path,
                                              first_run: tuple[str, Path]) -> None:
    """New, changed, resolved and reopened findings are exactly those the change made.

    The run stops only at the phases whose findings changed; the changed evidence and the
    expired acceptance reopen their findings and keep the old decision.
    """
    first, _ = first_run
    step = ktmb(cli_env, "run", V2, "--approval", "changed", today=LATER)
    run_id = _run_id(step)
    stops = []
    while step.exit_code == 3:
        stops.append(ktmb(cli_env, "status", run_id, "--json").stdout)
        step = ktmb(cli_env, "approve", run_id, today=LATER)
    assert 0 == step.exit_code, step.stderr
    assert ["network", "controls", "risk_review"] == [
        json.loads(s)["pending_phase"] for s in stops]
    model = json.loads(ktmb(cli_env, "show", run_id).stdout)
    assert {
        "new": {
            "controls.privileged-container@Deployment/shop/web#debug",
            "controls.run-as-root@Deployment/shop/web#debug",
            "controls.seccomp-profile@Deployment/shop/web#debug",
            "controls.writable-root-filesystem@Deployment/shop/web#debug",
            "controls.image-not-pinned@Deployment/shop/web#debug",
            "network.no-default-deny@Namespace/shop",
            "network.open-egress@Deployment/shop/api",
            "network.open-egress@Deployment/shop/web",
            "network.pod-not-isolated@Deployment/shop/api",
            "network.pod-not-isolated@Deployment/shop/web",
            PATH_TO_NODE},
        "changed": {WEB_IMAGE, API_IMAGE},
        "unchanged": {BALANCER, NO_PSA},
        "resolved": {ALLOW_ALL},
        "reopened": {WEB_IMAGE, API_IMAGE},
    } == _by_state(model)
    by_id = {f["id"]: f for f in model["findings"]}
    web, api = by_id[WEB_IMAGE], by_id[API_IMAGE]
    assert ("open", "changed_since_triage", "accepted", "team-shop", first) == (
        web["status"], web["triage"]["state"], web["triage"]["status"], web["triage"]["owner"],
        web["triage"]["run_id"])
    # its score too: the web pod now holds its node (the privileged debug container)
    assert ["score", "status", "evidence"] == web["baseline"]["fields"]
    assert web["triage"]["message"].startswith("changed since triage: the evidence differs "
                                               "from when it was accepted by ann on ")
    assert ("open", "expired", "2030-01-31") == (api["status"], api["triage"]["state"],
                                                 api["triage"]["expires"])
    assert api["triage"]["message"].startswith("expired on 2030-01-31: it was accepted by ann")
    assert ["status"] == api["baseline"]["fields"]
    assert "false_positive" == by_id[BALANCER]["status"]
    assert {"new": NEW_PATHS, "changed": set(), "unchanged": set(), "resolved": set()} == {
        k: set(v) for k, v in model["baseline"]["attack_paths"].items()}
    assert "new" == model["attack_paths"][0]["baseline"]
    assert (first, first) == (model["baseline"]["ref"], model["baseline"]["run_id"])


def test_scan_with_a_baseline_fails_only_on_what_changed(
        cli_env: dict[str, str], tmp_path: Path, first_run: tuple[str, Path]) -> None:
    """``scan --baseline v1.json --fail-on high`` names the new findings, one line each."""
    _, baseline = first_run
    same = ktmb(cli_env, "scan", V1, "--baseline", str(baseline), "--fail-on", "low",
                "--out", str(tmp_path / "same.json"))
    assert 0 == same.exit_code, same.stderr
    changed = ktmb(cli_env, "scan", V2, "--baseline", str(baseline), "--fail-on", "high",
                   "--out", str(tmp_path / "v2.json"))
    assert 5 == changed.exit_code, changed.stderr
    lines = [line.split() for line in changed.stderr.splitlines() if line.startswith("  new ")]
    # The load balancer is a false positive in the baseline's triage, so the internet path to
    # the node is gone; the paths from the pods stay below high.
    assert [["new", "high", "controls.privileged-container@Deployment/shop/web#debug"]] == sorted(
        line[:3] for line in lines)
    assert "1 new or changed finding at or above high: failing (--fail-on)" in changed.stderr


def test_stored_decisions_are_listed(cli_env: dict[str, str],
                                     first_run: tuple[str, Path]) -> None:
    """``ktmb triage list`` shows the application's decisions in force."""
    first, _ = first_run
    listed = ktmb(cli_env, "triage", "list", "shop", "--json")
    assert 0 == listed.exit_code, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(API_IMAGE, "accepted", "2030-01-31"), (WEB_IMAGE, "accepted", "2099-12-31"),
            (BALANCER, "false_positive", None)] == [
        (r["finding"], r["status"], r["expires"]) for r in rows]
    assert {first} == {r["run_id"] for r in rows}
