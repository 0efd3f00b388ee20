"""Approval gates: edits files, decision validation, applying edits, approval policies."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from workflow.domain.errors import ConfigError, DecisionError
from workflow.domain.run import Decision
from workflow.domain.threat_model import Finding, FindingStatus, Phase, Severity
from workflow.gates import (
    FindingEdit,
    PhaseDecision,
    PhaseEdits,
    apply_edits,
    load_edits,
    parse_approval_policy,
    triage_decisions,
    validate_decision,
)

AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _finding(fid: str, phase: Phase = Phase.NETWORK) -> dict[str, Any]:
    return Finding(id=fid, rule=fid.split("@")[0], title=f"title of {fid}", phase=phase,
                   severity=Severity.MEDIUM, score=4.0).model_dump(mode="json")


FINDINGS = {
    "net.a@Deployment/ns/a": _finding("net.a@Deployment/ns/a"),
    "net.b@Deployment/ns/b": _finding("net.b@Deployment/ns/b"),
    "id.c@ServiceAccount/ns/c": _finding("id.c@ServiceAccount/ns/c", Phase.IDENTITY),
}
#: The same findings as the run context holds them.
MODELS = {fid: Finding.model_validate(data) for fid, data in FINDINGS.items()}


def _decision(*edits: FindingEdit, decision: Decision = Decision.APPROVED) -> PhaseDecision:
    return PhaseDecision(phase=Phase.NETWORK, decision=decision, by="ann",
                         comment="ok", at=AT, edits=PhaseEdits(edits=edits) if edits else None)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- edits files -----------------------------------------------------------------------------
def test_load_yaml_edits(tmp_path: Path) -> None:
    """A YAML edits file with every kind of edit is read."""
    path = _write(tmp_path, "edits.yaml", """\
edits:
  - id: net.a@Deployment/ns/a
    remove: true
    reason: duplicate of a platform finding
  - id: net.b@Deployment/ns/b
    severity: low
    status: accepted
    note: Only reachable from the VPN.
""")
    edits = load_edits(path)
    assert [("net.a@Deployment/ns/a", True, None, None),
            ("net.b@Deployment/ns/b", False, Severity.LOW, FindingStatus.ACCEPTED)] == [
        (e.id, e.remove, e.severity, e.status) for e in edits.edits]


def test_load_json_edits(tmp_path: Path) -> None:
    """A JSON edits file is read the same way."""
    path = _write(tmp_path, "edits.json",
                  '{"edits": [{"id": "net.a@Deployment/ns/a", "note": "seen"}]}')
    assert ["seen"] == [e.note for e in load_edits(path).edits]


def test_load_bare_list_of_edits(tmp_path: Path) -> None:
    """A bare list is accepted as the edits."""
    path = _write(tmp_path, "edits.yaml", "- {id: net.a@Deployment/ns/a, remove: true}\n")
    assert 1 == len(load_edits(path).edits)


def test_malformed_yaml_edits_name_file_and_line(tmp_path: Path) -> None:
    """A YAML syntax error names the file and the line."""
    path = _write(tmp_path, "edits.yaml", "edits:\n  - id: x\n    note: [unclosed\n")
    with pytest.raises(DecisionError) as info:
        load_edits(path)
    assert str(info.value).startswith(f"{path}:")
    assert "invalid YAML" in str(info.value)


@pytest.mark.parametrize(("text", "problem"), [
    ("edits: []\n", "edits: Tuple should have at least 1 item"),
    ("edits:\n  - {id: x, colour: red}\n", "edits.0.colour: Extra inputs are not permitted"),
    ("edits:\n  - {id: x, severity: apocalyptic}\n", "edits.0.severity: Input should be"),
    ("edits:\n  - {id: x, status: done}\n", "edits.0.status: Input should be"),
    ("edits:\n  - {id: x, note: '   '}\n", "edits.0.note: Value error, must not be blank"),
    ("edits:\n  - {id: '', remove: true}\n", "edits.0.id: String should have at least 1"),
    ("just a string\n", "edits: Input should be a valid dictionary"),
    ("other: 1\n", "edits: Field required"),
])
def test_invalid_edits_are_refused(tmp_path: Path, text: str, problem: str) -> None:
    """Schema problems are one line naming the file and the field."""
    path = _write(tmp_path, "edits.yaml", text)
    with pytest.raises(DecisionError) as info:
        load_edits(path)
    message = str(info.value)
    assert 1 == len(message.splitlines())
    assert message.startswith(f"{path}: {problem}")


def test_missing_edits_file(tmp_path: Path) -> None:
    """A missing file is a decision error naming it."""
    path = tmp_path / "nope.yaml"
    with pytest.raises(DecisionError) as info:
        load_edits(path)
    assert f"{path}: cannot read edits file: No such file or directory" == str(info.value)


def test_binary_edits_file(tmp_path: Path) -> None:
    """A non-UTF-8 edits file is refused, not crashed on."""
    path = tmp_path / "edits.yaml"
    path.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(DecisionError):
        load_edits(path)


def test_huge_edits_file(tmp_path: Path) -> None:
    """Edits files over 1 MB are refused."""
    path = _write(tmp_path, "edits.yaml", "#" * 1_000_001)
    with pytest.raises(DecisionError) as info:
        load_edits(path)
    assert f"{path}: edits file is larger than 1 MB" == str(info.value)


# ---- validation ----------------------------------------------------------------------------
def test_valid_decision_passes() -> None:
    """Edits of the phase's own findings pass."""
    decision = _decision(FindingEdit(id="net.a@Deployment/ns/a", remove=True, reason="dup"),
                         FindingEdit(id="net.b@Deployment/ns/b", severity=Severity.HIGH))
    validate_decision(decision, FINDINGS)


def test_unknown_finding_id_is_refused() -> None:
    """An edit of a finding that does not exist is refused."""
    decision = _decision(FindingEdit(id="net.zz@Deployment/ns/zz", remove=True))
    with pytest.raises(DecisionError) as info:
        validate_decision(decision, FINDINGS)
    assert ("edit names finding 'net.zz@Deployment/ns/zz', which is not a finding of the "
            "network phase") == str(info.value)


def test_finding_of_another_phase_is_refused() -> None:
    """A gate only edits its own phase's findings."""
    decision = _decision(FindingEdit(id="id.c@ServiceAccount/ns/c", remove=True))
    with pytest.raises(DecisionError):
        validate_decision(decision, FINDINGS)


def test_duplicate_edit_is_refused() -> None:
    """The same finding edited twice is refused."""
    decision = _decision(FindingEdit(id="net.a@Deployment/ns/a", note="one"),
                         FindingEdit(id="net.a@Deployment/ns/a", note="two"))
    with pytest.raises(DecisionError) as info:
        validate_decision(decision, FINDINGS)
    assert "finding 'net.a@Deployment/ns/a' is edited twice" == str(info.value)


def test_remove_with_change_is_refused() -> None:
    """Removing and changing the same finding contradicts itself."""
    decision = _decision(FindingEdit(id="net.a@Deployment/ns/a", remove=True,
                                     severity=Severity.LOW))
    with pytest.raises(DecisionError) as info:
        validate_decision(decision, FINDINGS)
    assert ("finding 'net.a@Deployment/ns/a': remove cannot be combined with changes"
            == str(info.value))


def test_empty_edit_is_refused() -> None:
    """An edit that changes nothing is refused."""
    decision = _decision(FindingEdit(id="net.a@Deployment/ns/a"))
    with pytest.raises(DecisionError) as info:
        validate_decision(decision, FINDINGS)
    assert "finding 'net.a@Deployment/ns/a': the edit changes nothing" == str(info.value)


def test_rejection_with_edits_is_refused() -> None:
    """A rejection carries a reason, not edits."""
    decision = _decision(FindingEdit(id="net.a@Deployment/ns/a", remove=True),
                         decision=Decision.REJECTED)
    with pytest.raises(DecisionError) as info:
        validate_decision(decision, FINDINGS)
    assert "a rejection takes a reason, not edits" == str(info.value)


TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(("edit", "problem"), [
    (FindingEdit(id="net.a@Deployment/ns/a", status=FindingStatus.ACCEPTED),
     "an accepted risk needs an owner, a reason and an expiry date (missing: owner, reason, "
     "expires; expires: YYYY-MM-DD)"),
    (FindingEdit(id="net.a@Deployment/ns/a", status=FindingStatus.ACCEPTED, owner="ann",
                 reason="VPN only"),
     "an accepted risk needs an owner, a reason and an expiry date (missing: expires; "
     "expires: YYYY-MM-DD)"),
    (FindingEdit(id="net.a@Deployment/ns/a", status=FindingStatus.ACCEPTED, owner="ann",
                 reason="VPN only", expires=date(2026, 11, 30)),
     "expires 2026-11-30 is in the past"),
    (FindingEdit(id="net.a@Deployment/ns/a", owner="ann"),
     "owner and expires go with an accepted, mitigated or false_positive status"),
    (FindingEdit(id="net.a@Deployment/ns/a", remove=True, reason="dup",
                 expires=date(2027, 1, 1)),
     "remove cannot be combined with changes"),
])
def test_accepted_risks_need_an_owner_a_reason_and_an_expiry(edit: FindingEdit,
                                                             problem: str) -> None:
    """An acceptance without owner, reason or a future expiry is refused with one line."""
    with pytest.raises(DecisionError) as info:
        validate_decision(_decision(edit), FINDINGS, on=TODAY)
    assert f"finding 'net.a@Deployment/ns/a': {problem}" == str(info.value)


def test_a_complete_acceptance_passes_and_carries_its_triage() -> None:
    """An acceptance with owner, reason and expiry is applied with its triage and stored."""
    edit = FindingEdit(id="net.a@Deployment/ns/a", status=FindingStatus.ACCEPTED, owner="team",
                       reason="VPN only", expires=date(2027, 1, 31), note="Checked.")
    validate_decision(_decision(edit), FINDINGS, on=TODAY)
    edited = apply_edits(_decision(edit), MODELS, run_id="run-1")
    accepted = edited["net.a@Deployment/ns/a"]
    assert accepted is not None and accepted.triage is not None
    assert ("applied", "review", "accepted", "team", "VPN only", date(2027, 1, 31), "ann",
            "run-1") == (accepted.triage.state, accepted.triage.source, accepted.triage.status,
                         accepted.triage.owner, accepted.triage.reason,
                         accepted.triage.expires, accepted.triage.by, accepted.triage.run_id)
    assert ("accepted by ann on 2026-11-26 (owner team; until 2027-01-31; VPN only)"
            == accepted.triage.message)
    (stored,) = triage_decisions(edited)
    assert ("net.a@Deployment/ns/a", "network", FindingStatus.ACCEPTED, ("Checked.",),
            "run-1") == (stored.finding, stored.phase, stored.status,
                         tuple(n.text for n in stored.notes), stored.run_id)


def test_removals_are_not_stored_as_triage() -> None:
    """A removal applies to its run only: nothing is stored for the next runs."""
    edited = apply_edits(_decision(FindingEdit(id="net.a@Deployment/ns/a", remove=True,
                                               reason="dup")), MODELS)
    assert [] == triage_decisions(edited)


def test_decision_schema_is_strict() -> None:
    """A decision with an unknown verb or no reviewer is not a decision."""
    with pytest.raises(ValidationError):
        PhaseDecision.model_validate({"phase": "network", "decision": "maybe", "by": "ann",
                                      "at": AT.isoformat()})
    with pytest.raises(ValidationError):
        PhaseDecision.model_validate({"phase": "network", "decision": "approved", "by": "",
                                      "at": AT.isoformat()})


# ---- applying edits ------------------------------------------------------------------------
def test_apply_edits() -> None:
    """Remove becomes None; severity sets the override; status and notes are kept with by/at."""
    decision = _decision(
        FindingEdit(id="net.a@Deployment/ns/a", remove=True, reason="dup"),
        FindingEdit(id="net.b@Deployment/ns/b", severity=Severity.LOW,
                    status=FindingStatus.ACCEPTED, note="Only reachable from the VPN."))
    update = apply_edits(decision, MODELS)
    assert update["net.a@Deployment/ns/a"] is None
    changed = update["net.b@Deployment/ns/b"]
    assert changed is not None
    assert (Severity.LOW, Severity.LOW, FindingStatus.ACCEPTED) == (
        changed.severity, changed.severity_override, changed.status)
    assert [("ann", AT, "Only reachable from the VPN.")] == [
        (n.by, n.at, n.text) for n in changed.notes]


def test_apply_edits_appends_notes() -> None:
    """A second note is added after the first."""
    first = apply_edits(_decision(FindingEdit(id="net.a@Deployment/ns/a", note="one")), MODELS)
    edited = {**MODELS, **{k: v for k, v in first.items() if v is not None}}
    second = apply_edits(_decision(FindingEdit(id="net.a@Deployment/ns/a", note="two")), edited)
    noted = second["net.a@Deployment/ns/a"]
    assert noted is not None
    assert ["one", "two"] == [n.text for n in noted.notes]


def test_apply_no_edits() -> None:
    """A plain approval changes no finding."""
    assert {} == apply_edits(_decision(), MODELS)


# ---- approval policy -----------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    (None, []),
    ("", []),
    ("none", []),
    ("NONE", []),
    ("each", [p.value for p in Phase]),
    ("all", [p.value for p in Phase]),
    ("network", ["network"]),
    ("risk_review, identity ,network", ["identity", "network", "risk_review"]),
    ("network,network", ["network"]),
    ("changed", ["changed"]),
    ("Changed", ["changed"]),
])
def test_parse_approval_policy(value: str | None, expected: list[str]) -> None:
    """none, each, changed, or phases (returned in graph order, de-duplicated)."""
    assert expected == parse_approval_policy(value)


@pytest.mark.parametrize("value", ["netwrok", "network,bogus", "reviewer"])
def test_unknown_phase_in_policy_is_refused(value: str) -> None:
    """An unknown phase is a one-line usage error listing the phases."""
    with pytest.raises(ConfigError) as info:
        parse_approval_policy(value)
    message = str(info.value)
    assert message.startswith("--approval: unknown phase ")
    assert "architecture, identity, data, logging, network, controls, compliance, risk_review" \
        in message
