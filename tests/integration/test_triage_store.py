"""Triage and baselines on the real database: the store, decisions on runs, default baselines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest

from workflow.db import open_database
from workflow.domain.errors import DecisionError
from workflow.domain.inputs import LoadedInputs, load_inputs
from workflow.domain.settings import Settings
from workflow.domain.threat_model import FindingStatus, Note, Severity
from workflow.domain.triage import TriageDecision
from workflow.gates import FindingEdit, PhaseEdits
from workflow.runs import Runs

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
V1 = REPO / "tests" / "fixtures" / "living" / "v1"
WEB_IMAGE = "controls.image-not-pinned@Deployment/shop/web#web"
AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def runs(settings: Settings) -> Runs:
    """Runs on a fresh, migrated database."""
    return Runs(open_database(settings))


@pytest.fixture
def inputs(settings: Settings) -> LoadedInputs:
    """Version 1 of the shop application (with its profile)."""
    return load_inputs([V1], settings=settings, base=V1)


def _decision(finding: str, **changes: object) -> TriageDecision:
    fields: dict[str, object] = {
        "finding": finding, "rule": finding.split("@")[0], "phase": "controls",
        "evidence": "0" * 64, "status": FindingStatus.FALSE_POSITIVE, "by": "ann", "at": AT,
        "notes": (Note(by="ann", at=AT, text="n"),)}
    fields.update(changes)
    return TriageDecision.model_validate(fields)


def test_the_store_keeps_the_latest_decision_and_every_one_in_history(runs: Runs) -> None:
    """A second decision on a finding replaces the first; both are in the history."""
    store = runs.triage
    assert 1 == store.record("shop", [_decision("c.a@x")])
    store.record("shop", [_decision("c.a@x", status=FindingStatus.MITIGATED,
                                    severity=Severity.LOW), _decision("c.b@x")])
    store.record("other", [_decision("c.a@x")])
    assert [("c.a@x", FindingStatus.MITIGATED, Severity.LOW), ("c.b@x",
            FindingStatus.FALSE_POSITIVE, None)] == [
        (d.finding, d.status, d.severity) for d in store.decisions("shop")]
    assert ["false_positive", "mitigated"] == [
        r["decision"]["status"] for r in store.history("shop", "c.a@x")]
    assert ["n"] == [n.text for n in store.decisions("shop")[0].notes]


def test_the_database_refuses_an_acceptance_without_owner_reason_and_expiry(
        runs: Runs) -> None:
    """The table's own check: an accepted risk has an owner, a reason and an expiry."""
    with pytest.raises(psycopg.errors.CheckViolation):
        runs.triage.record("shop", [_decision("c.a@x", status=FindingStatus.ACCEPTED)])


def test_decisions_on_a_completed_run_apply_to_the_next_run(runs: Runs,
                                                            inputs: LoadedInputs) -> None:
    """``record_triage`` on a completed run: the next run of the application applies it."""
    first = runs.start(inputs, application="shop", approval=[])
    edits = PhaseEdits(edits=(FindingEdit(
        id=WEB_IMAGE, status=FindingStatus.ACCEPTED, owner="team-shop", reason="immutable",
        expires=date(2099, 1, 31)),))
    assert 1 == runs.record_triage(first.run_id, edits, by="ann")
    unchanged = runs.threat_model(first.run_id)
    assert FindingStatus.OPEN == next(f for f in unchanged.findings if f.id == WEB_IMAGE).status
    second = runs.start(inputs, application="shop", approval=[])
    found = next(f for f in runs.threat_model(second.run_id).findings if f.id == WEB_IMAGE)
    assert found.triage is not None
    assert (FindingStatus.ACCEPTED, "team-shop", first.run_id) == (
        found.status, found.triage.owner, found.triage.run_id)


@pytest.mark.parametrize(("edit", "message"), [
    (FindingEdit(id=WEB_IMAGE, remove=True, reason="dup"),
     "triage cannot remove a finding; mark it false_positive (it stays in the model, "
     "suppressed)"),
    (FindingEdit(id="x@y", status=FindingStatus.FALSE_POSITIVE),
     "edit names finding 'x@y', which is not a finding of run {run}"),
    (FindingEdit(id=WEB_IMAGE, status=FindingStatus.ACCEPTED),
     f"finding '{WEB_IMAGE}': an accepted risk needs an owner, a reason and an expiry date "
     "(missing: owner, reason, expires; expires: YYYY-MM-DD)"),
])
def test_malformed_triage_is_refused_and_nothing_is_stored(
        runs: Runs, inputs: LoadedInputs, edit: FindingEdit, message: str) -> None:
    """Triage on a run is validated like a gate's edits; a refusal stores nothing."""
    first = runs.start(inputs, application="shop", approval=[])
    with pytest.raises(DecisionError) as info:
        runs.record_triage(first.run_id, PhaseEdits(edits=(edit,)), by="ann")
    assert message.format(run=first.run_id) == str(info.value)
    assert [] == runs.triage.decisions("shop")


def test_the_default_baseline_is_the_latest_completed_run(runs: Runs,
                                                          inputs: LoadedInputs) -> None:
    """A run is compared with the application's latest completed run; none makes it plain."""
    first = runs.start(inputs, application="shop", approval=[])
    assert runs.threat_model(first.run_id).baseline is None
    second = runs.start(inputs, application="shop", approval=[])
    third = runs.start(inputs, application="shop", approval=[])
    compared = runs.threat_model(third.run_id).baseline
    assert compared is not None
    assert (second.run_id, 0, 0) == (compared.run_id, compared.counts["new"],
                                     compared.counts["changed"])
    plain = runs.start(inputs, application="shop", approval=[], baseline=None)
    assert runs.threat_model(plain.run_id).baseline is None
    other = runs.start(inputs, application="other", approval=[])
    assert runs.threat_model(other.run_id).baseline is None


def test_approval_changed_without_a_baseline_stops_at_every_phase_with_findings(
        runs: Runs, inputs: LoadedInputs) -> None:
    """Everything is new against no baseline: the first phase with findings waits."""
    started = runs.start(inputs, application="shop", approval=["changed"], baseline=None)
    assert ("awaiting_approval", "network") == (started.status, started.pending_phase)
    pending = runs.pending(started.run_id)
    assert pending is not None and "drift" not in pending
