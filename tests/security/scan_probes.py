"""Scan a manifest text through the real pipeline (load, redact, rules, reviewer)."""

from __future__ import annotations

import json
from pathlib import Path

from workflow.domain.inputs import load_inputs
from workflow.domain.run import RunOptions
from workflow.domain.settings import Settings
from workflow.domain.threat_model import Finding, ThreatModel
from workflow.scan import scan

__all__ = ["by_rule", "dumped", "loaded_text", "scan_text"]


def scan_text(tmp_path: Path, text: str, *, classification: str | None = None) -> ThreatModel:
    """The threat model ``ktmb scan`` builds from ``text`` (one manifest file)."""
    path = tmp_path / "manifests.yaml"
    path.write_text(text, encoding="utf-8")
    settings = Settings(home=tmp_path / "home", redaction_key="probe-key")
    inputs = load_inputs([path], settings=settings)
    return scan(inputs, application="probe", options=RunOptions(classification=classification))


def loaded_text(tmp_path: Path, text: str) -> str:
    """Every loaded object (what prompts and the run's snapshot see) as JSON text."""
    path = tmp_path / "loaded.yaml"
    path.write_text(text, encoding="utf-8")
    settings = Settings(home=tmp_path / "home", redaction_key="probe-key")
    return json.dumps(load_inputs([path], settings=settings).to_snapshot())


def by_rule(model: ThreatModel, rule: str) -> list[Finding]:
    """The model's findings of one rule, in the model's order."""
    return [f for f in model.findings if f.rule == rule]


def dumped(model: ThreatModel) -> str:
    """The model as the JSON a user gets."""
    return json.dumps(model.model_dump(mode="json"))
