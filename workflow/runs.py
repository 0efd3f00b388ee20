"""Runs: start, resume, approve, reject, rerun, status — one LangGraph thread per run.

The thread id is the run id. Every invocation uses ``durability="sync"`` (a node's writes are
on disk before the next node starts), so a run stopped by a gate, Ctrl-C, SIGTERM, SIGKILL or a
crash resumes from its last finished node. Only one process executes a run at a time (a
PostgreSQL advisory lock per run); a run whose process died holds no lock and can be resumed.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

import structlog
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphDrained
from langgraph.runtime import RunControl
from langgraph.types import Command, Interrupt

from agents.phase_runner import remember_inputs
from workflow import dumped
from workflow.assemble import final_model
from workflow.context import RunContext
from workflow.db import Database
from workflow.domain.errors import KtmbError, NotFoundError, RunError, RunStateError, one_line
from workflow.domain.inputs import LoadedInputs
from workflow.domain.threat_model import PHASES, Phase, ThreatModel
from workflow.gates import PhaseDecision, PhaseEdits, decision_json, validate_decision
from workflow.graph import build_graph, gate_name
from workflow.run_ids import new_run_id
from workflow.run_store import RunInfo, RunStore
from workflow.state import ThreatModelState, all_findings, initial_state

__all__ = ["ContextFactory", "RunOutcome", "Runs", "new_run_id"]

log = structlog.get_logger(__name__)

#: Builds the (non-checkpointed) run context for a run: (run info) -> RunContext.
ContextFactory = Callable[[RunInfo], RunContext]


@dataclass(frozen=True)
class RunOutcome:
    """Where a run stands after an invocation."""

    run_id: str
    status: str
    pending_phase: str | None = None
    error: str | None = None
    version: int | None = None
    #: The final model when this process has just produced it (saves reading it back), and
    #: its JSON text as stored (indented, as ``ktmb export``/``--out`` write it).
    model: ThreatModel | None = field(default=None, compare=False, repr=False)
    model_json: str | None = field(default=None, compare=False, repr=False)


class Runs:
    """Runs of the threat-model graph against one database."""

    def __init__(self, db: Database, context_factory: ContextFactory | None = None) -> None:
        self.db = db
        self.store = RunStore(db)
        self.graph = build_graph().compile(checkpointer=db.saver)
        self.context_factory = context_factory or (lambda _info: RunContext())

    # ---- starting and continuing --------------------------------------------------------
    def start(self, inputs: LoadedInputs, *, application: str, approval: list[str],
              llm: dict[str, Any] | None = None, created_by: str = "unknown",
              owner_groups: list[str] | None = None, run_id: str | None = None,
              execute: bool = True) -> RunOutcome:
        """Create a run and execute it until it completes, stops at a gate, or fails."""
        run_id = run_id or new_run_id(application)
        self.store.create(
            run_id=run_id, application=application, approval_policy=approval,
            llm_provider=(llm or {}).get("provider", "off"), llm_model=(llm or {}).get("model"),
            inputs_digest=inputs.digest, inputs=[f.model_dump(mode="json") for f in inputs.files],
            options={"llm": llm}, owner_groups=owner_groups or [], created_by=created_by,
            status="running" if execute else "queued")
        initial = initial_state(run_id=run_id, application=application,
                                inputs_snapshot=inputs.to_snapshot(),
                                inputs_digest=inputs.digest, approval=approval, options=llm)
        # Written as the start node's update rather than passed as the graph's input: the input
        # would be checkpointed twice more (the __start__ channel and its pending write).
        try:
            self.graph.update_state(self._config(run_id), initial, as_node="__start__")
        except Exception as exc:
            message = one_line(exc)
            self.store.set_status(run_id, "failed", error=message)
            raise RunError(f"run {run_id} could not be started: {message}") from exc
        if not execute:
            return RunOutcome(run_id=run_id, status="queued")
        remember_inputs(initial, inputs)
        return self._drive(run_id, None)

    def resume(self, run_id: str, *, control: RunControl | None = None) -> RunOutcome:
        """Continue a stopped run from its last finished node.

        ``control`` lets the caller stop the run after its current node (a queue worker's
        SIGTERM: ``control.request_drain(...)``); by default SIGTERM/Ctrl-C do it.
        """
        info = self.store.get(run_id)
        if info.status == "completed":
            raise RunStateError(f"run {run_id} has already completed")
        if info.status == "rejected":
            raise RunStateError(f"run {run_id} was rejected at {info.pending_phase}; use "
                                f"'ktmb rerun {run_id} --from {info.pending_phase}'")
        snapshot = self.graph.get_state(self._config(run_id))
        if snapshot.interrupts:
            phase = snapshot.interrupts[0].value.get("phase")
            self.store.set_status(run_id, "awaiting_approval", pending_phase=phase)
            raise RunStateError(f"run {run_id} is waiting for approval of the {phase} phase; "
                                f"use 'ktmb approve {run_id}' or 'ktmb reject {run_id}'")
        if not snapshot.next and not snapshot.values:
            raise RunStateError(f"run {run_id} has no saved state to resume")
        return self._drive(run_id, None, control=control)

    def decide(self, run_id: str, *, decision: str, by: str, comment: str = "",
               edits: PhaseEdits | None = None,
               control: RunControl | None = None) -> RunOutcome:
        """Approve or reject the pending phase and continue the run.

        Raises:
            RunStateError: the run is not waiting for approval.
            DecisionError: the decision is malformed (the run stays where it was).
        """
        info = self.store.get(run_id)
        snapshot = self.graph.get_state(self._config(run_id))
        if info.status != "awaiting_approval" or not snapshot.interrupts:
            raise RunStateError(f"run {run_id} is not waiting for approval "
                                f"(status: {info.status})")
        phase = Phase(snapshot.interrupts[0].value["phase"])
        verdict = PhaseDecision(phase=phase, decision=decision,
                                by=by, comment=comment, at=datetime.now(UTC), edits=edits)
        validate_decision(verdict, all_findings(snapshot.values))

        def record() -> None:  # under the run lock: only a decision that will apply is kept
            current = self.graph.get_state(self._config(run_id))
            if not current.interrupts or current.interrupts[0].value.get("phase") != phase.value:
                raise RunStateError(f"run {run_id} is no longer waiting for approval of the "
                                    f"{phase.value} phase")
            self.store.record_approval(
                run_id, phase=phase.value, decision="approved" if decision == "approve" else
                "rejected", by=by, comment=comment,
                edits=edits.model_dump(mode="json") if edits else None, at=verdict.at)

        return self._drive(run_id, Command(resume=decision_json(verdict)), before=record,
                           control=control)

    def rerun(self, run_id: str, from_phase: Phase, *, guidance: str | None = None) -> RunOutcome:
        """Redo ``from_phase`` and every phase after it, with the rejection reason as guidance."""
        info = self.store.get(run_id)
        if info.status in {"running"} and self._locked_elsewhere(run_id):
            raise RunStateError(f"run {run_id} is running in another process")
        if guidance is None:
            rejections = [a for a in self.store.approvals(run_id)
                          if a["phase"] == from_phase.value and a["decision"] == "rejected"]
            guidance = rejections[-1]["comment"] if rejections else None
        target = None
        for snap in self.graph.get_state_history(self._config(run_id)):
            if snap.next == (from_phase.value,):
                target = snap
                break
        if target is None:
            raise RunStateError(f"run {run_id} never reached the {from_phase.value} phase")
        index = PHASES.index(from_phase)
        as_node = gate_name(PHASES[index - 1]) if index else "__start__"
        update: dict[str, Any] = {"rejected": None}
        if guidance:
            update["guidance"] = {from_phase.value: guidance}
        self.graph.update_state(target.config, update, as_node=as_node)
        log.info("run_rerun", run_id=run_id, phase=from_phase.value)
        return self._drive(run_id, None)

    # ---- reading ------------------------------------------------------------------------------
    def info(self, run_id: str) -> RunInfo:
        """The runs-table record."""
        return self.store.get(run_id)

    def state(self, run_id: str) -> ThreatModelState:
        """The run's latest checkpointed state."""
        self.store.get(run_id)
        values = self.graph.get_state(self._config(run_id)).values
        return values  # type: ignore[return-value]

    def pending(self, run_id: str) -> dict[str, Any] | None:
        """The pending gate's payload (phase and findings), if the run waits for approval."""
        snapshot = self.graph.get_state(self._config(run_id))
        if not snapshot.interrupts:
            return None
        value = snapshot.interrupts[0].value
        return dict(value) if isinstance(value, dict) else None

    def threat_model(self, run_id: str) -> ThreatModel:
        """The final model of a completed run, or a partial model (marked) of any other run."""
        stored = self.store.threat_model(run_id)
        if stored is not None:
            return ThreatModel.model_validate(stored[1])
        values = self.state(run_id)
        if not values:
            raise NotFoundError(f"run {run_id} has no state yet")
        from workflow.assemble import assemble_model

        return assemble_model(values, partial=True)

    # ---- execution ----------------------------------------------------------------------------
    def _config(self, run_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": run_id}}

    def _locked_elsewhere(self, run_id: str) -> bool:
        with self._run_lock(run_id) as locked:
            return not locked

    @contextmanager
    def _run_lock(self, run_id: str) -> Iterator[bool]:
        with self.store.run_lock(run_id) as locked:
            yield locked

    def _drive(self, run_id: str, payload: Any,
               before: Callable[[], None] | None = None,
               control: RunControl | None = None) -> RunOutcome:
        info = self.store.get(run_id)
        with (self._run_lock(run_id) as locked,
              structlog.contextvars.bound_contextvars(run_id=run_id)):
            if not locked:
                raise RunStateError(f"run {run_id} is being executed by another ktmb process")
            if before is not None:
                before()
            context = self.context_factory(info)
            outer = context.progress

            def progress(phase: Phase, event: str, details: dict[str, Any]) -> None:
                if event == "started":
                    self.store.set_current_phase(run_id, phase.value)
                if outer is not None:
                    outer(phase, event, details)

            context.progress = progress
            self.store.set_status(run_id, "running")
            if control is None:
                control = RunControl()
            try:
                with _drain_on_signals(control):
                    output = self.graph.invoke(payload, self._config(run_id),
                                               context=context, durability="sync",
                                               version="v2", control=control)
            except GraphDrained:
                self.store.set_status(run_id, "interrupted")
                log.info("run_interrupted", reason=control.drain_reason)
                return RunOutcome(run_id=run_id, status="interrupted")
            except KeyboardInterrupt:
                self.store.set_status(run_id, "interrupted")
                raise
            except Exception as exc:
                self._failed(run_id, exc)
            try:
                return self._settle(run_id, dict(output.value or {}), output.interrupts)
            except Exception as exc:  # storing the model: the reviewed state is checkpointed
                self._failed(run_id, exc)

    def _failed(self, run_id: str, exc: Exception) -> NoReturn:
        """Record a run as failed and raise the error for the caller (one line)."""
        if isinstance(exc, KtmbError):
            self.store.set_status(run_id, "failed", error=str(exc))
            raise exc
        message = one_line(exc)
        self.store.set_status(run_id, "failed", error=message)
        log.error("run_failed", error=message)
        raise RunError(f"run {run_id} failed: {message}; finished phases are kept, "
                       f"continue with 'ktmb resume {run_id}'") from exc

    def _settle(self, run_id: str, values: dict[str, Any],
                interrupts: Sequence[Interrupt]) -> RunOutcome:
        """Record where an invocation that returned normally left the run.

        ``values`` and ``interrupts`` are the invocation's own output: a normal return without
        an interrupt means the graph reached its end, so the checkpoint is not read back
        (unless the invocation produced nothing, e.g. it found the graph already at its end).
        """
        if not values and not interrupts:
            snapshot = self.graph.get_state(self._config(run_id))
            values, interrupts = dict(snapshot.values), snapshot.interrupts
            if snapshot.next and not interrupts:
                values = {}
        if interrupts:
            phase = interrupts[0].value.get("phase")
            self.store.set_status(run_id, "awaiting_approval", pending_phase=phase,
                                  current_phase=phase)
            log.info("run_awaiting_approval", phase=phase)
            return RunOutcome(run_id=run_id, status="awaiting_approval", pending_phase=phase)
        if values.get("rejected"):
            phase = values["rejected"]
            self.store.set_status(run_id, "rejected", pending_phase=phase, current_phase=phase)
            log.info("run_rejected", phase=phase)
            return RunOutcome(run_id=run_id, status="rejected", pending_phase=phase)
        if values.get("reviewed"):
            model = final_model(values)  # type: ignore[arg-type]
            dumped.forget(run_id)  # the phases' findings are in the model now
            text = model.model_dump_json(indent=2)  # one serialisation for the store and --out
            version = self.store.save_threat_model(run_id, values["application"], text)
            self.store.set_status(run_id, "completed", current_phase="reviewer")
            log.info("run_completed", findings=len(model.findings), version=version)
            return RunOutcome(run_id=run_id, status="completed", version=version, model=model,
                              model_json=text)
        self.store.set_status(run_id, "interrupted")
        return RunOutcome(run_id=run_id, status="interrupted")


@contextmanager
def _drain_on_signals(control: RunControl) -> Iterator[None]:
    """SIGTERM and a first Ctrl-C finish the current node, then stop; a second Ctrl-C aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[signal.Signals, Any] = {}

    def handler(signum: int, _frame: Any) -> None:
        if signum == signal.SIGINT and control.drain_requested:
            raise KeyboardInterrupt
        control.request_drain(signal.Signals(signum).name)

    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
