"""Diffing two threat models by fingerprint: new, changed, unchanged, resolved."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from workflow.diff import diff_models, render_json, render_text
from workflow.domain.threat_model import (
    Application,
    Evidence,
    Finding,
    Generator,
    Phase,
    Severity,
    Summary,
    ThreatModel,
)


def _f(fid: str, band: Severity = Severity.LOW, score: float = 2.4,
       value: str = "true") -> Finding:
    return Finding(id=fid, rule=fid.split("@")[0], title=f"title of {fid}",
                   phase=Phase.CONTROLS, severity=band, score=score,
                   evidence=(Evidence(resource="Deployment/a/b", path="/spec", value=value),))


def _model(run: str, findings: list[Finding], overall: Severity = Severity.LOW) -> ThreatModel:
    return ThreatModel(run_id=run, created_at=datetime(2026, 1, 1, tzinfo=UTC),
                       application=Application(name="app"), generator=Generator(version="0"),
                       phases={}, findings=tuple(findings),
                       summary=Summary(total=len(findings), overall_risk=overall))


def test_classifies_new_changed_unchanged_resolved() -> None:
    """Each finding lands in exactly one bucket."""
    old = _model("A", [_f("r.same@x"), _f("r.gone@x"), _f("r.moved@x")])
    new = _model("B", [_f("r.same@x"), _f("r.added@x", Severity.HIGH, 6.0),
                       _f("r.moved@x", Severity.MEDIUM, 4.8)], Severity.HIGH)
    diff = diff_models(old, new)
    assert ["r.added@x"] == [f.id for f in diff.new]
    assert ["r.gone@x"] == [f.id for f in diff.resolved]
    assert ("r.same@x",) == diff.unchanged
    assert ["r.moved@x"] == [c.id for c in diff.changed]
    assert ("severity", "score") == diff.changed[0].fields
    assert ("low", "high") == diff.overall_risk


def test_evidence_change_is_a_change() -> None:
    """A different evidence value marks the finding changed."""
    diff = diff_models(_model("A", [_f("r@x", value="1")]), _model("B", [_f("r@x", value="2")]))
    assert ("evidence",) == diff.changed[0].fields


def test_override_counts_as_severity() -> None:
    """A severity_override changes the effective band."""
    overridden = _f("r@x").model_copy(update={"severity_override": Severity.CRITICAL})
    diff = diff_models(_model("A", [_f("r@x")]), _model("B", [overridden]))
    assert {"severity": "critical"} == diff.changed[0].after


def test_identical_models_have_no_changes() -> None:
    """Diffing a model with itself reports nothing."""
    model = _model("A", [_f("r@x"), _f("s@y")])
    diff = diff_models(model, model)
    assert not diff.has_changes
    assert "No changes." in render_text(diff)


def test_render_text_lists_sections() -> None:
    """The text rendering shows counts and each section's findings."""
    diff = diff_models(_model("A", [_f("r.gone@x")]), _model("B", [_f("r.added@x")]))
    text = render_text(diff)
    assert "1 new, 0 changed, 1 resolved, 0 unchanged" in text
    assert "+ [low     ] title of r.added@x  (r.added@x)" in text
    assert "- [low     ] title of r.gone@x  (r.gone@x)" in text


def test_render_json_is_parseable_and_counts() -> None:
    """The JSON rendering round-trips and carries the counts."""
    diff = diff_models(_model("A", [_f("r@x")]), _model("B", [_f("r@x", Severity.HIGH, 6.0)]))
    data = json.loads(render_json(diff))
    assert {"new": 0, "changed": 1, "resolved": 0, "unchanged": 0} == data["counts"]
    assert "r@x" == data["changed"][0]["id"]
