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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, NoReturn

import structlog
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphDrained
from langgraph.runtime import RunControl
from langgraph.types import Command, Interrupt

from agents.reviewer.assemble import assemble_model
from agents.rule_selection import RuleSelection
from agents.run_context import RunContext, Services, triage_set
from workflow.db import Database
from workflow.domain.baseline import BaselineSnapshot
from workflow.domain.errors import (
    DatabaseUnavailableError,
    DecisionError,
    KtmbError,
    NotFoundError,
    RunError,
    RunStateError,
    one_line,
)
from workflow.domain.inputs import LoadedInputs
from workflow.domain.run import Decision, RunOptions, RunStatus
from workflow.domain.run_sources import RunSources
from workflow.domain.run_state import ThreatModelState, all_findings, initial_state
from workflow.domain.threat_model import PHASES, Finding, Phase, ThreatModel
from workflow.gates import (
    PhaseDecision,
    PhaseEdits,
    apply_edits,
    decision_json,
    edit_findings,
    gate_name,
    triage_decisions,
    validate_decision,
    validate_edits,
)
from workflow.graph import build_graph
from workflow.run_ids import new_run_id
from workflow.run_store import RunInfo, RunStore
from workflow.triage_store import TriageStore

__all__ = ["LATEST", "BaselineChoice", "RunOutcome", "Runs", "ServicesFactory", "new_run_id"]

log = structlog.get_logger(__name__)

#: The services of a run (knowledge base, model, progress) from its record.
ServicesFactory = Callable[[RunInfo], Services]
#: The default baseline of a run: the application's latest completed run (if it has one).
LATEST: Literal["latest"] = "latest"
#: What a run is compared with: a snapshot, the latest completed run, or nothing.
BaselineChoice = BaselineSnapshot | Literal["latest"] | None


@dataclass(frozen=True)
class RunOutcome:
    """Where a run stands after an invocation."""

    run_id: str
    status: RunStatus
    pending_phase: str | None = None
    error: str | None = None
    version: int | None = None
    #: The final model when this process has just produced it (saves reading it back).
    model: ThreatModel | None = field(default=None, compare=False, repr=False)


class Runs:
    """Runs of the threat-model graph against one database."""

    def __init__(self, db: Database, services: ServicesFactory | None = None) -> None:
        self.db = db
        self.store = RunStore(db)
        self.triage = TriageStore(db)
        self.graph = build_graph().compile(checkpointer=db.saver)
        self.services = services or (lambda _info: Services())

    # ---- starting and continuing --------------------------------------------------------
    def start(self, inputs: LoadedInputs, *, application: str, approval: list[str],
              options: RunOptions | None = None, created_by: str = "unknown",
              owner_groups: list[str] | None = None, run_id: str | None = None,
              execute: bool = True, baseline: BaselineChoice = LATEST,
              sources: RunSources | None = None) -> RunOutcome:
        """Create a run and execute it until it completes, stops at a gate, or fails.

        The run re-applies the application's stored triage decisions and is compared with
        ``baseline`` (by default the application's latest completed run); both are
        checkpointed with it, so a resumed run applies the same. ``sources`` records what the
        run reads besides its inputs (profile, knowledge base), for a later ``--since``.

        Raises:
            ConfigError: the options' rule patterns match no rule (no run is created).
        """
        run_id = run_id or new_run_id(application)
        options = options or RunOptions()
        RuleSelection.of(options.rules, options.skip_rules)
        snapshot = self.latest_baseline(application, run_id) if baseline == LATEST else baseline
        assert not isinstance(snapshot, str)  # noqa: S101 - LATEST is resolved just above
        decisions = self.triage.decisions(application)
        self.store.create(
            run_id=run_id, application=application, approval_policy=approval,
            options=options, inputs_digest=inputs.digest,
            inputs=[f.model_dump(mode="json") for f in inputs.files],
            owner_groups=owner_groups or [], created_by=created_by,
            status=RunStatus.QUEUED,  # running only under the run lock (see RunStore.get)
            sources=sources)
        initial = initial_state(run_id=run_id, application=application,
                                inputs_snapshot=inputs.to_snapshot(),
                                inputs_digest=inputs.digest, approval=approval, options=options,
                                triage=[d.model_dump(mode="json") for d in decisions],
                                baseline=snapshot.model_dump(mode="json") if snapshot else None)
        # Written as the start node's update rather than passed as the graph's input: the input
        # would be checkpointed twice more (the __start__ channel and its pending write).
        try:
            self.graph.update_state(self._config(run_id), initial, as_node="__start__")
        except Exception as exc:
            message = one_line(exc)
            self.store.set_status(run_id, RunStatus.FAILED, error=message)
            raise RunError(f"run {run_id} could not be started: {message}") from exc
        if not execute:
            return RunOutcome(run_id=run_id, status=RunStatus.QUEUED)
        fresh = RunContext(inputs=inputs, baseline=snapshot, triage=triage_set(
            inputs, [d.model_dump(mode="json") for d in decisions], snapshot))
        return self._drive(run_id, None, fresh=fresh)

    def latest_baseline(self, application: str, exclude: str = "") -> BaselineSnapshot | None:
        """The snapshot of the application's latest completed run's model, if it has one."""
        found = self.store.latest_threat_model(application, exclude)
        if found is None:
            return None
        return BaselineSnapshot.of_model(ThreatModel.model_validate_json(found[1]), found[0])

    def resume(self, run_id: str, *, control: RunControl | None = None) -> RunOutcome:
        """Continue a stopped run from its last finished node.

        ``control`` lets the caller stop the run after its current node (a queue worker's
        SIGTERM: ``control.request_drain(...)``); by default SIGTERM/Ctrl-C do it.
        """
        info = self.store.get(run_id)
        if info.status is RunStatus.COMPLETED:
            raise RunStateError(f"run {run_id} has already completed")
        if info.status is RunStatus.REJECTED:
            raise RunStateError(f"run {run_id} was rejected at {info.pending_phase}; use "
                                f"'ktmb rerun {run_id} --from {info.pending_phase}'")
        snapshot = self.graph.get_state(self._config(run_id))
        if snapshot.interrupts:
            phase = snapshot.interrupts[0].value.get("phase")
            self.store.set_status(run_id, RunStatus.AWAITING_APPROVAL, pending_phase=phase)
            raise RunStateError(f"run {run_id} is waiting for approval of the {phase} phase; "
                                f"use 'ktmb approve {run_id}' or 'ktmb reject {run_id}'")
        if not snapshot.next and not snapshot.values:
            raise RunStateError(f"run {run_id} has no saved state to resume")
        return self._drive(run_id, None, control=control)

    def decide(self, run_id: str, *, decision: Decision, by: str, comment: str = "",
               edits: PhaseEdits | None = None,
               control: RunControl | None = None) -> RunOutcome:
        """Approve or reject the pending phase and continue the run.

        Raises:
            RunStateError: the run is not waiting for approval.
            DecisionError: the decision is malformed (the run stays where it was).
        """
        info = self.store.get(run_id)
        snapshot = self.graph.get_state(self._config(run_id))
        if info.status is not RunStatus.AWAITING_APPROVAL or not snapshot.interrupts:
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
                run_id, phase=phase.value, decision=decision, by=by, comment=comment,
                edits=edits.model_dump(mode="json") if edits else None, at=verdict.at)
            if decision is Decision.APPROVED and edits is not None:
                own = {fid: Finding.model_validate(data)
                       for fid, data in all_findings(current.values).items()
                       if data.get("phase") == phase.value}
                self.triage.record(info.application, triage_decisions(
                    apply_edits(verdict, own, run_id=run_id)))

        return self._drive(run_id, Command(resume=decision_json(verdict)), before=record,
                           control=control)

    def record_triage(self, run_id: str, edits: PhaseEdits, *, by: str) -> int:
        """Record decisions on a run's findings for its application's later runs.

        For findings of a model that is already published (a completed run, or any run's
        partial model): the decisions apply from the application's next run. Edits are
        validated as at a gate; removals are refused (they apply to one run only).

        Raises:
            DecisionError: the edits are malformed, name no finding of the run, or remove one.

        Returns how many decisions were recorded.
        """
        info = self.store.get(run_id)
        model = self.threat_model(run_id)
        if any(edit.remove for edit in edits.edits):
            raise DecisionError("triage cannot remove a finding; mark it false_positive (it "
                                "stays in the model, suppressed)")
        by_id = {f.id: f for f in model.findings}
        validate_edits(edits, {fid: f.model_dump(mode="json") for fid, f in by_id.items()},
                       where=f"run {run_id}")
        edited = edit_findings(edits.edits, by_id, by=by, at=datetime.now(UTC), run_id=run_id)
        count = self.triage.record(info.application, triage_decisions(edited))
        log.info("triage_recorded", run_id=run_id, decisions=count)
        return count

    def rerun(self, run_id: str, from_phase: Phase, *, guidance: str | None = None) -> RunOutcome:
        """Redo ``from_phase`` and every phase after it, with the rejection reason as guidance."""
        info = self.store.get(run_id)
        if info.status is RunStatus.RUNNING and self._locked_elsewhere(run_id):
            raise RunStateError(f"run {run_id} is running in another process")
        if guidance is None:
            rejections = [a for a in self.store.approvals(run_id)
                          if a["phase"] == from_phase.value
                          and a["decision"] == Decision.REJECTED]
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
            return ThreatModel.model_validate_json(stored[1])
        values = self.state(run_id)
        if not values:
            raise NotFoundError(f"run {run_id} has no state yet")
        return assemble_model(values, RunContext.resumed(values), partial=True)

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

    def _context(self, info: RunInfo, fresh: RunContext | None) -> RunContext:
        """The run's context in this process: new, or rebuilt from its last checkpoint."""
        services = self.services(info)
        outer = services.progress

        def progress(phase: Phase, event: str, details: dict[str, Any]) -> None:
            if event == "started":
                self.store.set_current_phase(info.run_id, phase.value)
            if outer is not None:
                outer(phase, event, details)

        services = replace(services, progress=progress)
        options = RunOptions.model_validate(info.options)
        rules = RuleSelection.of(options.rules, options.skip_rules)
        if fresh is not None:
            return replace(fresh, services=services, rules=rules)
        return RunContext.resumed(self.graph.get_state(self._config(info.run_id)).values,
                                  services, rules)

    def _drive(self, run_id: str, payload: Any,
               before: Callable[[], None] | None = None,
               control: RunControl | None = None,
               fresh: RunContext | None = None) -> RunOutcome:
        """Execute the run until it completes, stops at a gate, or fails.

        ``fresh`` is the context of a run that starts here (its inputs, triage and baseline);
        otherwise the run's context is rebuilt from its checkpointed state.
        """
        info = self.store.get(run_id)
        with (self._run_lock(run_id) as locked,
              structlog.contextvars.bound_contextvars(run_id=run_id)):
            if not locked:
                raise RunStateError(f"run {run_id} is being executed by another ktmb process")
            if before is not None:
                before()
            self.store.set_status(run_id, RunStatus.RUNNING)
            if control is None:
                control = RunControl()
            try:
                context = self._context(info, fresh)  # a damaged checkpoint fails the run
                with _drain_on_signals(control):
                    output = self.graph.invoke(payload, self._config(run_id),
                                               context=context, durability="sync",
                                               version="v2", control=control)
            except GraphDrained:
                self.store.set_status(run_id, RunStatus.INTERRUPTED)
                log.info("run_interrupted", reason=control.drain_reason)
                return RunOutcome(run_id=run_id, status=RunStatus.INTERRUPTED)
            except KeyboardInterrupt:
                self.store.set_status(run_id, RunStatus.INTERRUPTED)
                raise
            except Exception as exc:
                self._failed(run_id, exc)
            try:
                return self._settle(run_id, dict(output.value or {}), output.interrupts,
                                    context)
            except Exception as exc:  # storing the model: the reviewed state is checkpointed
                self._failed(run_id, exc)

    def _failed(self, run_id: str, exc: Exception) -> NoReturn:
        """Record a run as failed and raise the error for the caller (one line).

        A run that lost its database cannot be recorded: it stays ``running`` until a process
        that opens it again finds no one holding it and marks it ``interrupted``.
        """
        down = self.db.unavailable(exc)
        if down is not None:
            log.info("run_database_lost", error=str(down))
            raise DatabaseUnavailableError(
                f"{down}; run {run_id} stopped at its last finished phase: when the database "
                f"is back, continue with 'ktmb resume {run_id}'") from exc
        if isinstance(exc, KtmbError):
            self.store.set_status(run_id, RunStatus.FAILED, error=str(exc))
            raise exc
        message = one_line(exc)
        self.store.set_status(run_id, RunStatus.FAILED, error=message)
        log.error("run_failed", error=message)
        raise RunError(f"run {run_id} failed: {message}; finished phases are kept, "
                       f"continue with 'ktmb resume {run_id}'") from exc

    def _settle(self, run_id: str, values: dict[str, Any], interrupts: Sequence[Interrupt],
                context: RunContext) -> RunOutcome:
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
            self.store.set_status(run_id, RunStatus.AWAITING_APPROVAL, pending_phase=phase,
                                  current_phase=phase)
            log.info("run_awaiting_approval", phase=phase)
            return RunOutcome(run_id=run_id, status=RunStatus.AWAITING_APPROVAL,
                              pending_phase=phase)
        if values.get("rejected"):
            phase = values["rejected"]
            self.store.set_status(run_id, RunStatus.REJECTED, pending_phase=phase,
                                  current_phase=phase)
            log.info("run_rejected", phase=phase)
            return RunOutcome(run_id=run_id, status=RunStatus.REJECTED, pending_phase=phase)
        if values.get("reviewed"):
            # The reviewer's own model when it ran in this process; else (a run resumed after
            # the reviewer) the same model assembled again from the reviewed state.
            model = context.model or assemble_model(values, context, partial=False)
            # Stored compact: a third smaller than indented, against PostgreSQL's 1 GB a value.
            version = self.store.save_threat_model(run_id, values["application"],
                                                   model.model_dump_json())
            self.store.set_status(run_id, RunStatus.COMPLETED, current_phase="reviewer")
            log.info("run_completed", findings=len(model.findings), version=version)
            return RunOutcome(run_id=run_id, status=RunStatus.COMPLETED, version=version,
                              model=model)
        self.store.set_status(run_id, RunStatus.INTERRUPTED)
        return RunOutcome(run_id=run_id, status=RunStatus.INTERRUPTED)


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
