"""Runs on the real database: versions, approvals with edits, rejection and rerun, resume."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agents.run_context import Services
from tests.fake_enricher import FakeEnricher
from workflow.db import open_database
from workflow.domain.errors import DecisionError, NotFoundError, RunError, RunStateError
from workflow.domain.inputs import LoadedInputs, load_inputs
from workflow.domain.run import Decision, RunOptions
from workflow.domain.settings import Settings
from workflow.domain.threat_model import PHASES, FindingStatus, Phase, Severity
from workflow.gates import FindingEdit, PhaseEdits
from workflow.run_store import RunInfo
from workflow.runs import Runs

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "payments"
SCHEMA = json.loads(
    (REPO / "workflow" / "domain" / "threat_model.schema.json").read_text(encoding="utf-8"))
SETTLEMENT = "test.network@CronJob/payments/settlement"
API = "test.network@Deployment/payments/payments-api"
DB = "test.network@StatefulSet/payments/payments-db"


@pytest.fixture
def enricher() -> FakeEnricher:
    """The fake model step shared by every invocation of a test."""
    return FakeEnricher()


@pytest.fixture
def runs(settings: Settings, enricher: FakeEnricher) -> Iterator[Runs]:
    """Runs on a fresh, migrated database, with the fake enrichment in every context."""

    def services(_info: RunInfo) -> Services:
        return Services(enricher=enricher)

    yield Runs(open_database(settings), services)


@pytest.fixture
def inputs(settings: Settings) -> LoadedInputs:
    """The example payments application."""
    return load_inputs([EXAMPLE / "manifests"], settings=settings,
                       architecture=[EXAMPLE / "ARCHITECTURE.md"], base=EXAMPLE)


def _schema_errors(model: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(model)]


def test_complete_run_stores_versioned_models(runs: Runs, inputs: LoadedInputs) -> None:
    """A completed run stores its model; the application's next run is version 2."""
    first = runs.start(inputs, application="payments", approval=[], created_by="tester")
    second = runs.start(inputs, application="payments", approval=[], created_by="tester")
    assert ("completed", 1, "completed", 2) == (first.status, first.version, second.status,
                                                 second.version)
    info = runs.info(first.run_id)
    assert ("completed", inputs.digest, "tester") == (info.status, info.inputs_digest,
                                                      info.created_by)
    assert info.finished_at is not None
    stored = runs.store.threat_model(first.run_id)
    assert stored is not None
    assert 1 == stored[0]
    model = json.loads(stored[1])
    assert [] == _schema_errors(model)
    assert first.run_id == model["run_id"]


def test_finding_ids_are_stable_across_runs(runs: Runs, inputs: LoadedInputs) -> None:
    """Two runs of the same input produce the same finding ids."""
    first = runs.start(inputs, application="payments", approval=[])
    second = runs.start(inputs, application="payments", approval=[])
    ids = [sorted(f.id for f in runs.threat_model(o.run_id).findings) for o in (first, second)]
    assert ids[0] == ids[1]
    assert len(ids[0]) == len(set(ids[0]))


def test_runs_are_listed(runs: Runs, inputs: LoadedInputs) -> None:
    """The store lists runs by application, newest first."""
    first = runs.start(inputs, application="payments", approval=[])
    second = runs.start(inputs, application="payments", approval=[])
    runs.start(inputs, application="other", approval=[])
    assert [second.run_id, first.run_id] == [
        i.run_id for i in runs.store.list_runs(application="payments")]


def test_approval_with_edits_is_recorded_and_kept(runs: Runs, inputs: LoadedInputs) -> None:
    """Edits (remove, severity, status, note) are applied, recorded with by/at, and kept."""
    outcome = runs.start(inputs, application="payments", approval=["network"])
    assert ("awaiting_approval", "network") == (outcome.status, outcome.pending_phase)
    info = runs.info(outcome.run_id)
    assert ("awaiting_approval", "network") == (info.status, info.pending_phase)
    pending = runs.pending(outcome.run_id)
    assert pending is not None
    assert {SETTLEMENT, API, DB} <= {f["id"] for f in pending["findings"]}

    edits = PhaseEdits(edits=(
        FindingEdit(id=SETTLEMENT, remove=True, reason="covered by the platform team"),
        FindingEdit(id=API, severity=Severity.CRITICAL),
        FindingEdit(id=DB, status=FindingStatus.ACCEPTED, note="Risk accepted until Q3.",
                    owner="ann", reason="Segmented at the cloud firewall.",
                    expires=date(2099, 9, 30)),
    ))
    done = runs.decide(outcome.run_id, decision=Decision.APPROVED, by="ann", comment="reviewed",
                       edits=edits)
    assert "completed" == done.status

    (approval,) = runs.store.approvals(outcome.run_id)
    assert ("network", "approved", "ann", "reviewed") == (
        approval["phase"], approval["decision"], approval["decided_by"], approval["comment"])
    assert [SETTLEMENT, API, DB] == [e["id"] for e in approval["edits"]["edits"]]
    assert approval["decided_at"] is not None

    model = runs.threat_model(outcome.run_id)
    by_id = {f.id: f for f in model.findings}
    assert SETTLEMENT not in by_id
    assert (Severity.CRITICAL, Severity.CRITICAL) == (by_id[API].severity,
                                                      by_id[API].severity_override)
    assert FindingStatus.ACCEPTED == by_id[DB].status
    assert [("ann", "Risk accepted until Q3.")] == [(n.by, n.text) for n in by_id[DB].notes]
    record = model.phases[Phase.NETWORK]
    assert record.approval is not None
    assert ("approved", "ann", "reviewed") == (record.approval.decision, record.approval.by,
                                               record.approval.comment)
    assert approval["decided_at"] == record.approval.at
    assert [] == _schema_errors(model.model_dump(mode="json"))


@pytest.mark.parametrize("edits", [
    PhaseEdits(edits=(FindingEdit(id="test.network@Deployment/payments/ghost", remove=True),)),
    PhaseEdits(edits=(FindingEdit(id=API, remove=True, severity=Severity.LOW),)),
    PhaseEdits(edits=(FindingEdit(id=API, note="a"), FindingEdit(id=API, note="b"))),
    PhaseEdits(edits=(FindingEdit(id="test.identity@Deployment/payments/payments-api",
                                  remove=True),)),
])
def test_malformed_decision_leaves_the_run_waiting(runs: Runs, inputs: LoadedInputs,
                                                  edits: PhaseEdits) -> None:
    """A refused decision records nothing and the run stays awaiting approval at its gate."""
    outcome = runs.start(inputs, application="payments", approval=["network"])
    before = runs.state(outcome.run_id)
    with pytest.raises(DecisionError):
        runs.decide(outcome.run_id, decision=Decision.APPROVED, by="ann", edits=edits)
    info = runs.info(outcome.run_id)
    assert ("awaiting_approval", "network") == (info.status, info.pending_phase)
    assert [] == runs.store.approvals(outcome.run_id)
    assert before == runs.state(outcome.run_id)
    assert "completed" == runs.decide(outcome.run_id, decision=Decision.APPROVED, by="ann").status


def test_reject_then_rerun_with_the_reason_as_guidance(runs: Runs, inputs: LoadedInputs,
                                                       enricher: FakeEnricher) -> None:
    """Reject stops the run; rerun --from redoes the phase with the reason, then completes."""
    outcome = runs.start(inputs, application="payments", approval=["data"])
    rejected = runs.decide(outcome.run_id, decision=Decision.REJECTED, by="bob",
                           comment="Check the card data store first.")
    assert ("rejected", "data") == (rejected.status, rejected.pending_phase)
    info = runs.info(outcome.run_id)
    assert ("rejected", "data") == (info.status, info.pending_phase)
    with pytest.raises(RunStateError):
        runs.resume(outcome.run_id)

    again = runs.rerun(outcome.run_id, Phase.DATA)
    assert ("awaiting_approval", "data") == (again.status, again.pending_phase)
    assert ("data", "Check the card data store first.") == enricher.calls[-1]
    done = runs.decide(outcome.run_id, decision=Decision.APPROVED, by="bob", comment="better")
    assert "completed" == done.status

    model = runs.threat_model(outcome.run_id)
    record = model.phases[Phase.DATA]
    assert ("approved", "Check the card data store first.") == (
        record.approval.decision if record.approval else None, record.guidance)
    assert [("data", "rejected"), ("data", "approved")] == [
        (a["phase"], a["decision"]) for a in runs.store.approvals(outcome.run_id)]
    counts = Counter(phase for phase, _ in enricher.calls)
    assert {"architecture": 1, "identity": 1, "data": 2} == {
        p: counts[p] for p in ("architecture", "identity", "data")}
    ids = [f.id for f in model.findings]
    assert len(ids) == len(set(ids))
    assert [] == _schema_errors(model.model_dump(mode="json"))


def test_rerun_with_explicit_guidance(runs: Runs, inputs: LoadedInputs,
                                      enricher: FakeEnricher) -> None:
    """rerun of a completed run redoes a phase and the ones after it, with the given guidance."""
    outcome = runs.start(inputs, application="payments", approval=[])
    version = runs.rerun(outcome.run_id, Phase.COMPLIANCE, guidance="PCI DSS 4.0 only").version
    assert ("compliance", "PCI DSS 4.0 only") in enricher.calls
    assert ["compliance", "risk_review"] == [p for p, _ in enricher.calls[len(PHASES):]]
    assert 1 == version
    assert "PCI DSS 4.0 only" == runs.threat_model(outcome.run_id).phases[
        Phase.COMPLIANCE].guidance


def test_resume_of_a_completed_run_is_refused(runs: Runs, inputs: LoadedInputs) -> None:
    """A completed run cannot be resumed."""
    outcome = runs.start(inputs, application="payments", approval=[])
    with pytest.raises(RunStateError) as info:
        runs.resume(outcome.run_id)
    assert f"run {outcome.run_id} has already completed" == str(info.value)


def test_resume_of_a_waiting_run_points_at_approve(runs: Runs, inputs: LoadedInputs) -> None:
    """A run waiting at a gate is not resumed; the message says how to decide."""
    outcome = runs.start(inputs, application="payments", approval=["architecture"])
    with pytest.raises(RunStateError) as info:
        runs.resume(outcome.run_id)
    assert "waiting for approval of the architecture phase" in str(info.value)


def test_decide_on_a_run_that_is_not_waiting(runs: Runs, inputs: LoadedInputs) -> None:
    """Approving a completed run is refused."""
    outcome = runs.start(inputs, application="payments", approval=[])
    with pytest.raises(RunStateError):
        runs.decide(outcome.run_id, decision=Decision.APPROVED, by="ann")


def test_unknown_run(runs: Runs) -> None:
    """Every operation on an unknown run is a NotFoundError."""
    for call in (lambda: runs.info("nope"), lambda: runs.resume("nope"),
                 lambda: runs.threat_model("nope"),
                 lambda: runs.decide("nope", decision=Decision.APPROVED, by="a")):
        with pytest.raises(NotFoundError):
            call()


def test_failed_run_resumes_without_rerunning_finished_phases(
        runs: Runs, inputs: LoadedInputs, enricher: FakeEnricher) -> None:
    """A crash inside a phase fails the run; resume finishes it, earlier phases run once."""
    enricher.fail_once_in = Phase.LOGGING
    with pytest.raises(RunError) as info:
        runs.start(inputs, application="payments", approval=[], run_id="crash-1")
    assert "continue with 'ktmb resume crash-1'" in str(info.value)
    assert "failed" == runs.info("crash-1").status
    partial = runs.threat_model("crash-1")
    assert partial.partial
    done = runs.resume("crash-1")
    assert "completed" == done.status
    counts = Counter(phase for phase, _ in enricher.calls)
    assert {p.value: 2 if p == Phase.LOGGING else 1 for p in PHASES} == dict(counts)
    ids = [f.id for f in runs.threat_model("crash-1").findings]
    assert len(ids) == len(set(ids))


def test_run_lock_refuses_a_second_executor(runs: Runs, inputs: LoadedInputs) -> None:
    """While one process holds a run's advisory lock, another cannot drive it."""
    outcome = runs.start(inputs, application="payments", approval=["network"])
    other = Runs(runs.db, runs.services)
    with runs._run_lock(outcome.run_id) as locked:
        assert locked
        with pytest.raises(RunStateError) as info:
            other.decide(outcome.run_id, decision=Decision.APPROVED, by="ann")
    assert "is being executed by another ktmb process" in str(info.value)
    assert [] == runs.store.approvals(outcome.run_id)
    assert "awaiting_approval" == runs.info(outcome.run_id).status


def test_models_of_one_application_saved_together_get_distinct_versions(runs: Runs) -> None:
    """Runs of one application that finish at the same moment still number 1, 2, 3, ..."""
    import threading

    count = 6
    for i in range(count):
        runs.store.create(run_id=f"same-app-{i}", application="same-app", approval_policy=[],
                          options=RunOptions(), inputs_digest="d", inputs=[],
                          owner_groups=[], created_by="tester")
    barrier = threading.Barrier(count)
    versions: list[int] = []
    errors: list[BaseException] = []

    def save(i: int) -> None:
        barrier.wait()
        try:
            versions.append(runs.store.save_threat_model(f"same-app-{i}", "same-app", "{}"))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [] == errors
    assert list(range(1, count + 1)) == sorted(versions)


def test_a_failure_to_store_the_model_fails_the_run_and_resume_stores_it(
        runs: Runs, inputs: LoadedInputs, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reviewed state is kept: the run is 'failed' with the reason, and resume finishes it."""
    calls = []
    save = runs.store.save_threat_model

    def failing_once(*args: Any) -> int:
        calls.append(args[0])
        if len(calls) == 1:
            raise RuntimeError("disk full\nsecond line")
        return save(*args)

    monkeypatch.setattr(runs.store, "save_threat_model", failing_once)
    with pytest.raises(RunError, match="failed: RuntimeError: disk full; finished phases are "
                                       "kept, continue with 'ktmb resume"):
        runs.start(inputs, application="payments", approval=[])
    run_id = calls[0]
    info = runs.info(run_id)
    assert ("failed", "RuntimeError: disk full") == (info.status, info.error)
    resumed = runs.resume(run_id)
    assert ("completed", 1) == (resumed.status, resumed.version)
    assert runs.threat_model(run_id).findings


# ---- the risk review builds on what the gates kept -------------------------------------------
NODE_FIXTURE = (REPO / "tests" / "unit" / "rules" / "fixtures" / "risk_review.path-to-node"
                / "fail_privileged_behind_lb.yaml")
PRIVILEGED = "controls.privileged-container@Deployment/shop/web#web"
CLOUD = "identity.cloud-identity@ServiceAccount/payments/payments-api"


def _evidenced_by(model: Any, finding: str) -> list[str]:
    """The graph's steps (from -> to: attack) that a finding evidences."""
    return [f"{e.source} -> {e.to}: {e.attack}" for e in model.attack_graph.edges
            if finding in e.findings or finding in e.requires]


def test_a_finding_removed_at_a_gate_removes_the_edges_it_evidenced(
        runs: Runs, settings: Settings) -> None:
    """Removing the container-escape finding at its gate removes its escape steps from the
    graph, the paths that took them and the risk-review finding built on them."""
    inputs = load_inputs([NODE_FIXTURE], settings=settings)
    kept = runs.start(inputs, application="shop", approval=[])
    assert kept.model is not None
    assert ["Deployment/shop/web#web -> Node/any: CE_MODULE_LOAD",
            "Deployment/shop/web#web -> Node/any: CE_PRIV_MOUNT"] == sorted(
        _evidenced_by(kept.model, PRIVILEGED))
    assert any(PRIVILEGED in p.findings for p in kept.model.attack_paths)
    assert any(f.rule == "risk_review.path-to-node" for f in kept.model.findings)

    outcome = runs.start(inputs, application="shop", approval=["controls"])
    done = runs.decide(outcome.run_id, decision=Decision.APPROVED, by="ann", edits=PhaseEdits(
        edits=(FindingEdit(id=PRIVILEGED, remove=True, reason="the pod is not privileged"),)))
    assert done.model is not None
    assert [] == _evidenced_by(done.model, PRIVILEGED)
    assert [] == [p.id for p in done.model.attack_paths if p.target.kind == "node"
                  and p.origin == "internet"]
    assert [] == [f.id for f in done.model.findings if f.rule == "risk_review.path-to-node"]


def test_a_false_positive_at_a_gate_is_not_chained(runs: Runs, inputs: LoadedInputs) -> None:
    """A finding marked false positive is kept in the model but evidences no step or path."""
    outcome = runs.start(inputs, application="payments", approval=["identity"])
    done = runs.decide(outcome.run_id, decision=Decision.APPROVED, by="ann", edits=PhaseEdits(
        edits=(FindingEdit(id=CLOUD, status=FindingStatus.FALSE_POSITIVE,
                           note="the role has no permissions"),)))
    assert done.model is not None
    by_id = {f.id: f for f in done.model.findings}
    assert FindingStatus.FALSE_POSITIVE == by_id[CLOUD].status
    assert done.model.attack_paths, "the other paths stay"
    assert [] == [p.id for p in done.model.attack_paths if CLOUD in p.findings]
    assert [] == _evidenced_by(done.model, CLOUD)
    assert [] == [p.id for p in done.model.attack_paths if p.target.kind == "cloud"]
    chained = [f.id for f in done.model.findings
               if f.phase is Phase.RISK_REVIEW and CLOUD in f.description]
    assert [] == chained


def test_the_risk_review_gate_shows_its_attack_paths(runs: Runs, inputs: LoadedInputs) -> None:
    """The risk-review gate shows the phase's findings and the attack paths it found."""
    outcome = runs.start(inputs, application="payments", approval=["risk_review"])
    assert ("awaiting_approval", "risk_review") == (outcome.status, outcome.pending_phase)
    pending = runs.pending(outcome.run_id)
    assert pending is not None
    first = pending["attack_paths"][0]
    assert ("internet=>StatefulSet/payments/payments-db", "critical") == (
        first["id"], first["severity"])
    assert "risk_review.path-to-data" in {f["rule"] for f in pending["findings"]}
    network = runs.start(inputs, application="payments", approval=["network"])
    assert "attack_paths" not in (runs.pending(network.run_id) or {})
