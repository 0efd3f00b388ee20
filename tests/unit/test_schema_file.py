"""The committed JSON Schema is current, and real models validate against it."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.run_context import RunContext
from workflow.domain.inputs import load_inputs
from workflow.domain.settings import Settings
from workflow.domain.threat_model import (
    Approval,
    Finding,
    Note,
    Phase,
    PhaseRecord,
    PhaseStatus,
    ThreatModel,
    json_schema,
    json_schema_text,
)
from workflow.graph import build_graph

REPO = Path(__file__).resolve().parents[2]
SCHEMA_FILE = REPO / "workflow" / "domain" / "threat_model.schema.json"
EXAMPLE = REPO / "examples" / "payments"


def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_committed_schema_is_current() -> None:
    """The committed file equals the schema of the code (regenerate with the module's main)."""
    assert json_schema_text() == SCHEMA_FILE.read_text(encoding="utf-8"), (
        "stale: python -m workflow.domain.threat_model > workflow/domain/threat_model.schema.json")


def test_module_main_prints_the_schema() -> None:
    """``python -m workflow.domain.threat_model`` prints exactly the committed file."""
    out = subprocess.run([sys.executable, "-m", "workflow.domain.threat_model"],
                         capture_output=True, check=True, cwd=REPO, timeout=60)
    assert SCHEMA_FILE.read_bytes() == out.stdout


def test_schema_identity() -> None:
    """The schema declares its dialect, id and the 2.0 version constant."""
    schema = json_schema()
    assert ("https://json-schema.org/draft/2020-12/schema",
            "https://ktmb.dev/schema/threat-model-2.0.json", "2.0") == (
        schema["$schema"], schema["$id"], schema["properties"]["schema_version"]["const"])


def _produced_model(settings: Settings) -> dict[str, Any]:
    inputs = load_inputs([EXAMPLE / "manifests"], settings=settings,
                         architecture=[EXAMPLE / "ARCHITECTURE.md"], base=EXAMPLE)
    graph = build_graph().compile(checkpointer=InMemorySaver())
    context = RunContext(inputs=inputs)
    out = graph.invoke(
        {"run_id": "schema-1", "application": "payments", "inputs": inputs.to_snapshot(),
         "inputs_digest": inputs.digest, "approval": [], "llm": None,
         "phases": {}, "guidance": {}, "degradations": {}, "usage": {}, "prompts": {},
         "extras": {}, "rejected": None, "reviewed": None},
        {"configurable": {"thread_id": "schema-1"}}, context=context, durability="sync",
        version="v2")
    assert out.value["reviewed"] is not None and context.model is not None
    return context.model.model_dump(mode="json")


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A model produced once per module from the example application."""
    home = tmp_path_factory.mktemp("schema-home")
    return _produced_model(Settings(home=home, redaction_key="test-key"))


def test_produced_model_validates(produced: dict[str, Any]) -> None:
    """The model a run of the example application produces validates against the file."""
    model = produced
    errors = [f"{list(e.path)}: {e.message}" for e in _validator().iter_errors(model)]
    assert [] == errors


def test_model_with_every_optional_part_validates() -> None:
    """Approvals, notes, overrides and partial flags validate too (JSON mode dump)."""
    at = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    finding = Finding(id="x.rule@Deployment/ns/a", rule="x.rule", title="t", phase=Phase.DATA,
                      severity_override="low", status="accepted",
                      notes=(Note(by="ann", at=at, text="ok"),))
    model = ThreatModel(
        run_id="r", created_at=at, application={"name": "a"}, generator={"version": "0"},
        phases={Phase.DATA: PhaseRecord(
            status=PhaseStatus.APPROVED, findings=1,
            approval=Approval(decision="approved", by="ann", at=at, edits={"edits": []}))},
        findings=(finding,), partial=True)
    errors = [e.message for e in _validator().iter_errors(model.model_dump(mode="json"))]
    assert [] == errors


@pytest.mark.parametrize(("pointer", "value"), [
    (("schema_version",), "1.0"),
    (("findings", 0, "severity"), "catastrophic"),
    (("findings", 0, "likelihood"), 9),
    (("findings", 0, "unexpected"), True),
])
def test_schema_rejects_bad_models(produced: dict[str, Any], pointer: tuple[Any, ...],
                                   value: Any) -> None:
    """The schema is strict enough to catch wrong versions, bands, ranges and extra fields."""
    model = copy.deepcopy(produced)
    if not model["findings"]:
        model["findings"] = [Finding(id="x@y", rule="x", title="t", phase=Phase.DATA)
                             .model_dump(mode="json")]
    target: Any = model
    for key in pointer[:-1]:
        target = target[key]
    target[pointer[-1]] = value
    assert not _validator().is_valid(model)


def test_a_1_0_document_is_read_without_its_attack_paths() -> None:
    """A 1.0 threat model (paths as steps) still reads: its findings stay, its paths go."""
    from workflow.domain.threat_model import read_model

    old = {"schema_version": "1.0", "run_id": "r", "created_at": "2026-01-01T00:00:00Z",
           "application": {"name": "a"}, "generator": {"version": "0.1"}, "phases": {},
           "attack_paths": [{"id": "p", "steps": ["internet", "Pod/a/b"], "target": "node"}],
           "findings": [{"id": "x@y", "rule": "x", "title": "t", "phase": "data"}]}
    model = read_model(old)
    assert ("2.0", (), ["x@y"]) == (model.schema_version, model.attack_paths,
                                    [f.id for f in model.findings])
