"""Triage that carries over: evidence digests, which decision holds, the repository's files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from workflow.domain.errors import InventoryError
from workflow.domain.inputs import load_inputs
from workflow.domain.marks import TriageSource, TriageState
from workflow.domain.safe_yaml import Limits
from workflow.domain.settings import Settings
from workflow.domain.suppressions import read_suppressions
from workflow.domain.threat_model import Evidence, Finding, FindingStatus, Note, Phase, Severity
from workflow.domain.triage import (
    SourcedSuppression,
    Suppression,
    TriageDecision,
    TriageSet,
    evidence_hash,
)

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)
LIMITS = Limits(max_file_bytes=1_000_000, max_documents=10, max_depth=32, max_aliases=10,
                max_nodes=10_000, max_object_bytes=1_000_000, max_input_bytes=1_000_000,
                max_containers=1, max_total_containers=1)
FID = "controls.image-not-pinned@Deployment/shop/web#web"


def _finding(image: str = "web:1.0", line: int = 19) -> Finding:
    return Finding(id=FID, rule="controls.image-not-pinned", title="not pinned",
                   phase=Phase.CONTROLS, resources=("Deployment/shop/web",),
                   severity=Severity.LOW, score=2.4,
                   evidence=(Evidence(resource="Deployment/shop/web", path="/spec/x/image",
                                      value=image, file="web.yaml", line=line),))


def _decision(**changes: object) -> TriageDecision:
    fields: dict[str, object] = {
        "finding": FID, "rule": "controls.image-not-pinned", "phase": "controls",
        "evidence": evidence_hash(_finding().evidence), "status": FindingStatus.ACCEPTED,
        "owner": "team-shop", "reason": "immutable tags", "expires": date(2027, 1, 31),
        "by": "ann", "at": AT, "run_id": "run-1",
        "notes": (Note(by="ann", at=AT, text="Checked."),)}
    fields.update(changes)
    return TriageDecision.model_validate(fields)


def test_the_evidence_digest_ignores_files_and_lines() -> None:
    """Moving a document changes no risk; changing the value does."""
    assert evidence_hash(_finding().evidence) == evidence_hash(_finding(line=40).evidence)
    assert evidence_hash(_finding().evidence) != evidence_hash(_finding("web:1.1").evidence)


def test_a_decision_on_unchanged_evidence_is_applied() -> None:
    """Status, notes and the decision itself come back on the same finding."""
    applied = TriageSet(decisions={FID: _decision()}).apply(_finding(line=40), TODAY)
    assert applied.triage is not None
    assert (FindingStatus.ACCEPTED, ["Checked."], TriageState.APPLIED, "run-1") == (
        applied.status, [n.text for n in applied.notes], applied.triage.state,
        applied.triage.run_id)


def test_a_severity_decision_overrides_the_band() -> None:
    """A stored severity is the finding's override again."""
    applied = TriageSet(decisions={FID: _decision(status=FindingStatus.OPEN, owner=None,
                                                  expires=None, severity=Severity.HIGH)}
                        ).apply(_finding(), TODAY)
    assert (FindingStatus.OPEN, Severity.HIGH, Severity.HIGH) == (
        applied.status, applied.severity, applied.severity_override)


def test_changed_evidence_reopens_and_shows_the_old_decision() -> None:
    """The finding stays open, marked changed since triage, with the old decision."""
    reopened = TriageSet(decisions={FID: _decision()}).apply(_finding("web:1.1"), TODAY)
    assert reopened.triage is not None
    assert (FindingStatus.OPEN, TriageState.CHANGED_SINCE_TRIAGE, FindingStatus.ACCEPTED,
            "team-shop") == (reopened.status, reopened.triage.state, reopened.triage.status,
                             reopened.triage.owner)
    assert ("changed since triage: the evidence differs from when it was accepted by ann on "
            "2026-11-02 (owner team-shop; until 2027-01-31; immutable tags); reopened"
            == reopened.triage.message)


def test_an_expired_acceptance_reopens_and_says_so() -> None:
    """The day after the expiry the finding is open again; on the day it still holds."""
    decisions = TriageSet(decisions={FID: _decision()})
    assert FindingStatus.ACCEPTED == decisions.apply(_finding(), date(2027, 1, 31)).status
    expired = decisions.apply(_finding(), date(2027, 2, 1))
    assert expired.triage is not None
    assert (FindingStatus.OPEN, TriageState.EXPIRED) == (expired.status, expired.triage.state)
    assert expired.triage.message.startswith("expired on 2027-01-31: it was accepted by ann")


def _suppression(**fields: object) -> SourcedSuppression:
    entry = Suppression.model_validate({"reason": "r", "expires": "2027-01-31",
                                        "owner": "team", **fields})
    return SourcedSuppression(entry=entry, source=TriageSource.SUPPRESSIONS_FILE,
                              file="ktmb-suppressions.yaml", line=2)


@pytest.mark.parametrize(("fields", "applies"), [
    ({"id": FID}, True),
    ({"id": FID + "x"}, False),
    ({"rule": "controls.*"}, True),
    ({"rule": "controls.*", "resource": "Deployment/shop/*"}, True),
    ({"rule": "controls.*", "resource": "Deployment/other/*"}, False),
    ({"rule": "network.*"}, False),
    ({"id": FID, "evidence": evidence_hash(_finding().evidence)[:12]}, True),
    ({"id": FID, "evidence": "0123456789ab"}, False),
])
def test_suppressions_match_by_id_or_rule_and_resource_glob(fields: dict[str, object],
                                                            applies: bool) -> None:
    """A suppression names a finding, or a rule glob narrowed by a resource glob."""
    applied = TriageSet(suppressions=(_suppression(**fields),)).apply(_finding(), TODAY)
    assert applies == (applied.status is FindingStatus.ACCEPTED)


def test_a_stored_decision_wins_over_the_suppressions_file() -> None:
    """The reviewer's stored decision holds first; a stale one falls back to the file."""
    both = TriageSet(decisions={FID: _decision(status=FindingStatus.FALSE_POSITIVE)},
                     suppressions=(_suppression(id=FID),))
    assert FindingStatus.FALSE_POSITIVE == both.apply(_finding(), TODAY).status
    fallback = both.apply(_finding("web:1.1"), TODAY)
    assert fallback.triage is not None
    assert (FindingStatus.ACCEPTED, TriageSource.SUPPRESSIONS_FILE) == (
        fallback.status, fallback.triage.source)


@pytest.mark.parametrize(("text", "message"), [
    ("- id: a@b\n  owner: x\n  reason: r\n", "s.yaml:1: suppressions.0.expires: is required"),
    ("- id: a@b\n  owner: x\n  expires: 2027-01-01\n",
     "s.yaml:1: suppressions.0.reason: is required"),
    ("- id: a@b\n  reason: r\n  expires: 2027-01-01\n",
     "s.yaml:1: suppressions.0: an accepted risk needs an owner"),
    ("suppressions:\n  - id: a@b\n    owner: x\n    reason: r\n    expires: soon\n",
     "s.yaml:5: suppressions.0.expires: must be a date written YYYY-MM-DD, got 'soon'"),
    ("- rule: x.y\n  id: a@b\n  owner: x\n  reason: r\n  expires: 2027-01-01\n",
     "s.yaml:1: suppressions.0: name either a finding (id) or a rule (rule, with an optional "
     "resource glob)"),
    ("- id: a@b\n  status: open\n  reason: r\n  expires: 2027-01-01\n",
     "s.yaml:1: suppressions.0: status must be accepted, mitigated or false_positive"),
    ("- id: a@b\n  owner: x\n  reason: r\n  expires: 2027-01-01\n  because: x\n",
     "s.yaml:5: suppressions.0.because: unknown key (known: id, rule, resource, status, "
     "severity, owner, reason, expires, evidence)"),
    ("supressions: []\n", "s.yaml:1: supressions: unknown key (known: suppressions)"),
])
def test_suppressions_file_mistakes_are_one_line(text: str, message: str) -> None:
    """Every mistake in the suppressions file names the file, the line and the key."""
    with pytest.raises(InventoryError) as info:
        read_suppressions("s.yaml", text, LIMITS)
    assert message == str(info.value)


ANNOTATED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations:
    ktmb.io/accept: controls.run-as-root, controls.writable-root-filesystem
{extra}spec:
  template:
    spec:
      containers:
      - name: web
        image: web:1
"""
COMPLETE = ("    ktmb.io/accept-reason: vendor image\n    ktmb.io/accept-owner: team-shop\n"
            "    ktmb.io/accept-expires: '2027-03-31'\n")


def test_accept_annotations_are_suppressions_of_their_resource(tmp_path: Path) -> None:
    """Each named rule is accepted for the annotated resource, at the annotation's line."""
    (tmp_path / "web.yaml").write_text(ANNOTATED.format(extra=COMPLETE), encoding="utf-8")
    inputs = load_inputs([tmp_path / "web.yaml"],
                         settings=Settings(home=tmp_path / "h", redaction_key="k"),
                         base=tmp_path)
    assert [("controls.run-as-root", "Deployment/shop/web", "team-shop", date(2027, 3, 31),
             TriageSource.ANNOTATION, "web.yaml", 7),
            ("controls.writable-root-filesystem", "Deployment/shop/web", "team-shop",
             date(2027, 3, 31), TriageSource.ANNOTATION, "web.yaml", 7)] == [
        (s.entry.rule, s.entry.resource, s.entry.owner, s.entry.expires, s.source, s.file,
         s.line) for s in inputs.suppressions]


@pytest.mark.parametrize(("extra", "message"), [
    ("", "web.yaml:7: Deployment/shop/web: ktmb.io/accept: needs ktmb.io/accept-reason (why "
         "the risk is accepted)"),
    ("    ktmb.io/accept-reason: r\n    ktmb.io/accept-owner: o\n",
     "web.yaml:7: Deployment/shop/web: ktmb.io/accept: needs ktmb.io/accept-expires (the "
     "last day it holds, YYYY-MM-DD)"),
    ("    ktmb.io/accept-reason: r\n    ktmb.io/accept-owner: o\n"
     "    ktmb.io/accept-expires: next year\n",
     "web.yaml:10: Deployment/shop/web: ktmb.io/accept-expires: must be a date written "
     "YYYY-MM-DD, got 'next year'"),
])
def test_incomplete_accept_annotations_are_refused(tmp_path: Path, extra: str,
                                                   message: str) -> None:
    """An acceptance on a resource needs a reason, an owner and an expiry (one line)."""
    (tmp_path / "web.yaml").write_text(ANNOTATED.format(extra=extra), encoding="utf-8")
    with pytest.raises(InventoryError) as info:
        load_inputs([tmp_path / "web.yaml"],
                    settings=Settings(home=tmp_path / "h", redaction_key="k"), base=tmp_path)
    assert message == str(info.value)


def test_suppression_text_is_redacted(tmp_path: Path) -> None:
    """A credential written into a suppression's reason never reaches the run."""
    (tmp_path / "web.yaml").write_text(ANNOTATED.format(extra=COMPLETE), encoding="utf-8")
    (tmp_path / "ktmb-suppressions.yaml").write_text(
        "- rule: controls.*\n  owner: team\n  reason: 'see token = ghp_0123456789abcdefghijABCD"
        "EFGHIJklmnopqr'\n  expires: 2099-01-01\n", encoding="utf-8")
    inputs = load_inputs([tmp_path], settings=Settings(home=tmp_path / "h", redaction_key="k"))
    reasons = [s.entry.reason for s in inputs.suppressions]
    assert not any("ghp_0123456789" in r for r in reasons)
    assert any("redacted" in r for r in reasons)
