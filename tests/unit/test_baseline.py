"""Drift against a baseline: findings and attack paths new, changed, unchanged, resolved."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from workflow.diff import diff_models
from workflow.domain.attack_graph import Hop, PathTarget
from workflow.domain.baseline import BaselineSnapshot, gate_marks, mark_model, phase_drift
from workflow.domain.threat_model import (
    Application,
    AttackPath,
    Evidence,
    Finding,
    FindingStatus,
    Generator,
    Phase,
    Severity,
    ThreatModel,
)


def _f(fid: str, *, value: str = "1", score: float = 2.4, band: Severity = Severity.LOW,
       status: FindingStatus = FindingStatus.OPEN, phase: Phase = Phase.CONTROLS,
       line: int = 3) -> Finding:
    return Finding(id=fid, rule=fid.split("@")[0], title=f"title of {fid}", phase=phase,
                   severity=band, score=score, status=status,
                   evidence=(Evidence(resource="Deployment/a/b", path="/spec", value=value,
                                      file="a.yaml", line=line),))


def _path(pid: str, vertices: tuple[str, ...], findings: tuple[str, ...] = ()) -> AttackPath:
    """A path from the internet through ``vertices`` to the node."""
    stops = ("internet", *vertices, "Node/any")
    return AttackPath(id=pid, origin="internet", origin_kind="internet",
                      target=PathTarget(kind="node", ref="Node/any"),
                      hops=tuple(Hop(source=a, to=b, attack="CONTAINER_ESCAPE")
                                 for a, b in itertools.pairwise(stops)),
                      findings=findings)


def _model(findings: list[Finding], paths: tuple[AttackPath, ...] = ()) -> ThreatModel:
    return ThreatModel(run_id="base-1", created_at=datetime(2026, 1, 1, tzinfo=UTC),
                       application=Application(name="app"), generator=Generator(version="0"),
                       phases={}, findings=tuple(findings), attack_paths=paths)


BASE = _model([_f("c.same@x"), _f("c.moved@x"), _f("c.value@x"), _f("c.gone@x"),
               _f("c.closed@x")],
              (_path("p1", ("a", "b"), ("c.same@x",)), _path("p2", ("a",), ("c.gone@x",))))
SNAPSHOT = BaselineSnapshot.of_model(BASE, "main.json")


def test_every_finding_and_path_gets_a_state() -> None:
    """New, changed (with what and the baseline's assessment), unchanged; resolved listed."""
    now = [_f("c.same@x", line=9), _f("c.moved@x", score=4.8, band=Severity.MEDIUM),
           _f("c.value@x", value="2"), _f("c.closed@x", status=FindingStatus.FALSE_POSITIVE),
           _f("c.added@x")]
    paths = (_path("p1", ("a", "b", "c"), ("c.same@x",)), _path("p3", ("x",)))
    findings, marked_paths, comparison = mark_model(now, paths, SNAPSHOT)
    marks = {f.id: (f.baseline.state.value, f.baseline.fields) for f in findings
             if f.baseline is not None}
    assert {"c.same@x": ("unchanged", ()), "c.moved@x": ("changed", ("severity", "score")),
            "c.value@x": ("changed", ("evidence",)), "c.closed@x": ("changed", ("status",)),
            "c.added@x": ("new", ())} == marks
    moved = next(f for f in findings if f.id == "c.moved@x")
    assert moved.baseline is not None and moved.baseline.previous is not None
    assert (Severity.LOW, 2.4) == (moved.baseline.previous.severity,
                                   moved.baseline.previous.score)
    assert ({"new": 1, "changed": 3, "unchanged": 1, "resolved": 1}, ["c.gone@x"]) == (
        comparison.counts, [r.id for r in comparison.resolved])
    assert {"new": ("p3",), "changed": ("p1",), "unchanged": (), "resolved": ("p2",)} == (
        comparison.attack_paths)
    assert ["changed", "new"] == [p.baseline for p in marked_paths]
    assert ("main.json", "base-1") == (comparison.ref, comparison.run_id)


def test_the_diff_command_counts_changes_the_same_way() -> None:
    """``ktmb diff`` and ``--baseline`` agree on what changed."""
    now = [_f("c.same@x", line=9), _f("c.moved@x", score=4.8, band=Severity.MEDIUM),
           _f("c.value@x", value="2"), _f("c.closed@x", status=FindingStatus.FALSE_POSITIVE),
           _f("c.added@x")]
    diff = diff_models(BASE, _model(now))
    findings, _, _ = mark_model(now, (), SNAPSHOT)
    assert sorted(c.id for c in diff.changed) == sorted(
        f.id for f in findings if f.baseline is not None and f.baseline.state == "changed")
    assert {"new": (), "changed": (), "unchanged": (), "resolved": ("p1", "p2")} == (
        diff.attack_paths)


def test_a_phase_drifts_on_presence_evidence_and_status_only() -> None:
    """At a gate, a score moved by other phases is no change; new, gone, evidence are."""
    same = [_f("c.same@x"), _f("c.moved@x", score=4.8, band=Severity.MEDIUM), _f("c.value@x"),
            _f("c.gone@x"), _f("c.closed@x")]
    assert not phase_drift(Phase.CONTROLS, same, SNAPSHOT)
    drift = phase_drift(Phase.CONTROLS, [_f("c.same@x"), _f("c.value@x", value="9"),
                                         _f("c.closed@x"), _f("c.new@x")], SNAPSHOT)
    assert (("c.new@x",), ("c.value@x",), ("c.gone@x", "c.moved@x")) == (
        drift.new, drift.changed, drift.resolved)
    assert not phase_drift(Phase.NETWORK, [], SNAPSHOT)
    assert ("c.same@x",) == phase_drift(Phase.CONTROLS, [_f("c.same@x")], None).new


def test_gate_marks_ignore_score_moves() -> None:
    """A finding whose score alone moved is unchanged at its gate."""
    (mark,) = gate_marks([_f("c.moved@x", score=4.8, band=Severity.MEDIUM)], SNAPSHOT)
    assert mark.baseline is not None and "unchanged" == mark.baseline.state


def test_the_baseline_brings_its_review_decisions() -> None:
    """A reviewed baseline's decisions are re-applied by what is compared with it."""
    from workflow.domain.marks import Triage, TriageSource, TriageState

    triage = Triage(state=TriageState.APPLIED, source=TriageSource.REVIEW,
                    status=FindingStatus.FALSE_POSITIVE, by="ann",
                    at=datetime(2026, 1, 1, tzinfo=UTC), message="false positive by ann")
    suppressed = Triage(state=TriageState.APPLIED, source=TriageSource.ANNOTATION,
                        status=FindingStatus.ACCEPTED, message="accepted by annotation")
    model = _model([_f("c.a@x", status=FindingStatus.FALSE_POSITIVE).model_copy(
        update={"triage": triage}), _f("c.b@x", status=FindingStatus.ACCEPTED).model_copy(
        update={"triage": suppressed})])
    (decision,) = BaselineSnapshot.of_model(model, "m.json").decisions
    assert ("c.a@x", FindingStatus.FALSE_POSITIVE, "ann") == (decision.finding,
                                                             decision.status, decision.by)
