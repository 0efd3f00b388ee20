"""The compiled graph on an in-memory checkpointer: full run, gates, resume, idempotent nodes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from agents.reviewer.assemble import assemble_model
from agents.run_context import RunContext, Services
from tests.fake_enricher import FakeEnricher
from workflow.domain.inputs import LoadedInputs, load_inputs
from workflow.domain.run import Decision
from workflow.domain.run_state import ThreatModelState, all_findings
from workflow.domain.settings import Settings
from workflow.domain.threat_model import (
    PHASES,
    Phase,
    Severity,
    ThreatModel,
)
from workflow.gates import FindingEdit, PhaseDecision, PhaseEdits, decision_json
from workflow.graph import build_graph

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "payments"


def _initial(settings: Settings, run_id: str, approval: list[str]) -> ThreatModelState:
    inputs = load_inputs([EXAMPLE / "manifests"], settings=settings,
                         architecture=[EXAMPLE / "ARCHITECTURE.md"], base=EXAMPLE)
    return {"run_id": run_id, "application": "payments", "inputs": inputs.to_snapshot(),
            "inputs_digest": inputs.digest, "approval": approval, "llm": None,
            "phases": {}, "guidance": {}, "degradations": {}, "usage": {}, "prompts": {},
            "extras": {}, "rejected": None, "reviewed": None}


def _fake_count(findings: Any) -> int:
    return sum(1 for f in findings if f.rule.startswith("test."))


def _cfg(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


@pytest.fixture
def graph() -> Any:
    """The graph compiled with an in-memory checkpointer."""
    return build_graph().compile(checkpointer=InMemorySaver())


class _Ran:
    """A graph invocation's output and the run context it used (which holds the model)."""

    def __init__(self, out: Any, context: RunContext) -> None:
        self.value, self.interrupts, self.context = out.value, out.interrupts, context

    @property
    def model(self) -> ThreatModel:
        assert self.context.model is not None, "the reviewer did not run"
        return self.context.model


def _run(graph: Any, payload: Any, thread: str, enricher: FakeEnricher) -> _Ran:
    """Invoke as a run does: a new context for new input, else rebuilt from the checkpoint."""
    services = Services(enricher=enricher)
    if isinstance(payload, dict):
        context = RunContext(inputs=LoadedInputs.from_snapshot(payload["inputs"]),
                             services=services)
    else:
        context = RunContext.resumed(graph.get_state(_cfg(thread)).values, services)
    out = graph.invoke(payload, _cfg(thread), context=context, durability="sync",
                       version="v2")
    return _Ran(out, context)


def _rebuilt(values: Any) -> ThreatModel:
    """The model a process that did not run the reviewer assembles from the state."""
    return assemble_model(values, RunContext.resumed(values), partial=False)


def test_full_run_produces_a_threat_model(graph: Any, offline_settings: Settings) -> None:
    """Without gates the graph runs every phase, then the reviewer, in order."""
    enricher = FakeEnricher()
    out = _run(graph, _initial(offline_settings, "r1", []), "r1", enricher)
    model = out.model
    assert () == tuple(out.interrupts)
    assert [p.value for p in PHASES] == [phase for phase, _ in enricher.calls]
    assert dict.fromkeys(PHASES, "completed") == {
        p: r.status.value for p, r in model.phases.items()}
    assert 3 * len(PHASES) == _fake_count(model.findings)
    assert model.architecture.components


def test_interrupt_at_a_gate_and_resume(graph: Any, offline_settings: Settings) -> None:
    """A gate interrupts with the phase's findings; Command(resume=...) applies the decision."""
    enricher = FakeEnricher()
    out = _run(graph, _initial(offline_settings, "r2", ["network"]), "r2", enricher)
    (pending,) = out.interrupts
    assert "network" == pending.value["phase"]
    assert sorted(f"test.network@{w}" for w in (
        "CronJob/payments/settlement", "Deployment/payments/payments-api",
        "StatefulSet/payments/payments-db")) == sorted(
        f["id"] for f in pending.value["findings"] if f["rule"] == "test.network")
    shown = len(pending.value["findings"])
    assert ("gate_network",) == graph.get_state(_cfg("r2")).next

    decision = PhaseDecision(
        phase=Phase.NETWORK, decision=Decision.APPROVED, by="ann", comment="fine",
        at=datetime(2026, 11, 26, tzinfo=UTC),
        edits=PhaseEdits(edits=(
            FindingEdit(id="test.network@CronJob/payments/settlement", remove=True,
                        reason="covered elsewhere"),
            FindingEdit(id="test.network@StatefulSet/payments/payments-db",
                        severity=Severity.CRITICAL, note="holds PAN"))))
    done = _run(graph, Command(resume=decision_json(decision)), "r2", enricher)
    model = done.model
    ids = {f.id for f in model.findings}
    assert "test.network@CronJob/payments/settlement" not in ids
    db = next(f for f in model.findings if f.id == "test.network@StatefulSet/payments/payments-db")
    assert (Severity.CRITICAL, ("holds PAN",)) == (db.severity, tuple(n.text for n in db.notes))
    record = model.phases[Phase.NETWORK]
    assert ("approved", "ann", "fine", shown - 1) == (
        record.status.value, record.approval.by if record.approval else None,
        record.approval.comment if record.approval else None, record.findings)
    assert 1 == Counter(phase for phase, _ in enricher.calls)["network"]


def test_reject_ends_the_run(graph: Any, offline_settings: Settings) -> None:
    """A rejection stops the graph after the gate, marked rejected."""
    enricher = FakeEnricher()
    _run(graph, _initial(offline_settings, "r3", ["identity"]), "r3", enricher)
    decision = PhaseDecision(phase=Phase.IDENTITY, decision=Decision.REJECTED, by="bob",
                             comment="too noisy", at=datetime(2026, 11, 26, tzinfo=UTC))
    out = _run(graph, Command(resume=decision_json(decision)), "r3", enricher)
    state = graph.get_state(_cfg("r3"))
    assert ("identity", (), None) == (out.value["rejected"], state.next,
                                      out.value.get("reviewed"))
    assert "rejected" == out.value["phases"]["identity"]["status"]
    assert ["architecture", "identity"] == [phase for phase, _ in enricher.calls]


def test_resume_after_a_crash_does_not_rerun_finished_phases(
        graph: Any, offline_settings: Settings) -> None:
    """A node that fails is retried on resume; finished nodes are not run again."""
    enricher = FakeEnricher(fail_once_in=Phase.NETWORK)
    with pytest.raises(RuntimeError, match="simulated crash in network"):
        _run(graph, _initial(offline_settings, "r4", []), "r4", enricher)
    assert ("network",) == graph.get_state(_cfg("r4")).next
    out = _run(graph, None, "r4", enricher)
    assert [p.value for p in PHASES] == list(dict.fromkeys(p for p, _ in enricher.calls))
    assert {"network": 2} == {p: n for p, n in Counter(p for p, _ in enricher.calls).items()
                              if n > 1}
    model = out.model
    assert 3 * len(PHASES) == _fake_count(model.findings)


def test_reexecuted_nodes_do_not_duplicate_findings(graph: Any,
                                                    offline_settings: Settings) -> None:
    """Running phases again on a state that holds their findings upserts, never appends."""
    enricher = FakeEnricher()
    first = _run(graph, _initial(offline_settings, "r5", []), "r5", enricher)
    before = all_findings(first.value)
    graph.update_state(_cfg("r5"), {}, as_node="gate_logging")
    assert ("network",) == graph.get_state(_cfg("r5")).next
    again = _run(graph, None, "r5", enricher)
    assert sorted(before) == sorted(all_findings(again.value))
    ids = [f.id for f in again.model.findings]
    assert len(ids) == len(set(ids))
    assert sorted(before) == sorted(ids)
    assert 2 == Counter(p for p, _ in enricher.calls)["network"]


def test_guidance_reaches_the_phase(graph: Any, offline_settings: Settings) -> None:
    """Guidance in the state is handed to that phase's enrichment and recorded."""
    enricher = FakeEnricher()
    initial = _initial(offline_settings, "r6", [])
    initial["guidance"] = {"data": "look at the card data"}
    out = _run(graph, initial, "r6", enricher)
    assert ("data", "look at the card data") in enricher.calls
    assert "look at the card data" == out.value["phases"]["data"]["guidance"]


def test_a_reviewed_state_without_the_hand_over_rebuilds_the_same_model(
        graph: Any, offline_settings: Settings) -> None:
    """A process resuming a run killed after the reviewer rebuilds the model from the state."""
    enricher = FakeEnricher()
    out = _run(graph, _initial(offline_settings, "r9", []), "r9", enricher)
    assert {"findings", "overall_risk"} == set(out.value["reviewed"])
    handed = out.model  # the reviewer's model, on this process's run context
    rebuilt = _rebuilt(graph.get_state(_cfg("r9")).values)
    assert rebuilt is not handed
    assert (handed.model_dump(mode="json", exclude={"created_at"})
            == rebuilt.model_dump(mode="json", exclude={"created_at"}))
    assert out.value["reviewed"]["findings"] == rebuilt.summary.total
