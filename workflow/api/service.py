"""What the HTTP API and the web UI do, on behalf of an authenticated reviewer.

Everything a request may see goes through :meth:`ReviewService.visible_run`, so a run outside
the reviewer's groups is indistinguishable from a run that does not exist. Work that takes
longer than a request (executing phases after a start or a decision) runs in a small pool of
background threads; a decision is validated in full before it is handed over, so a malformed
decision answers 422 at once and leaves the run where it was.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from langgraph.runtime import RunControl
from pydantic import ValidationError

from workflow.api.auth import Principal, can_see
from workflow.api.config import ApiSettings
from workflow.api.models import (
    ApprovalRecord,
    PendingPhase,
    PhaseProgress,
    RunAccepted,
    RunDetail,
    RunSummary,
)
from workflow.api.run_inputs import Upload, load_server_paths, load_uploads
from workflow.api.server_files import ForbiddenError, allowed_path
from workflow.app_options import application_name, profile_options
from workflow.diff import diff_models, json_payload
from workflow.domain.baseline import BaselineSnapshot
from workflow.domain.errors import (
    ConfigError,
    DecisionError,
    KtmbError,
    NotFoundError,
    RunStateError,
    one_line,
)
from workflow.domain.inputs import LoadedInputs
from workflow.domain.run import Decision, LlmOptions, LlmProvider, RunOptions, RunStatus
from workflow.domain.run_state import all_findings
from workflow.domain.settings import Settings
from workflow.domain.threat_model import PHASES, AttackPath, Finding, Phase, ThreatModel
from workflow.domain.triage import TriageDecision
from workflow.exports import FORMATS, MEDIA_TYPES, SUFFIXES, export
from workflow.gates import PhaseDecision, PhaseEdits, parse_approval_policy, validate_decision
from workflow.run_setup import RunSetup
from workflow.run_store import RunInfo
from workflow.runs import LATEST, BaselineChoice, Runs, new_run_id

__all__ = [
    "ExportDocument",
    "ReviewService",
    "StartOptions",
    "parse_edits",
]

log = structlog.get_logger(__name__)

_CACHE_SIZE = 2048


@dataclass(frozen=True)
class StartOptions:
    """How a run started through the service is built."""

    application: str | None = None
    approval: str = "none"
    llm: str = "off"
    model: str | None = None
    cloud: str | None = None
    classification: str | None = None
    owner_groups: Sequence[str] | None = None
    #: A run id to compare with, ``none``; by default the application's latest completed run.
    baseline: str | None = None


@dataclass(frozen=True)
class ExportDocument:
    """An export, ready to send."""

    text: str
    media_type: str
    filename: str


@dataclass(frozen=True)
class _Checkpoint:
    """What the status and pending reads need from a checkpoint."""

    phases: dict[str, Any]
    pending: dict[str, Any] | None


def parse_edits(data: Any) -> PhaseEdits | None:
    """Edits as a JSON value (``{edits: [...]}`` or a bare list), validated like ``--edits``.

    Raises:
        DecisionError: the edits are malformed.
    """
    if data is None:
        return None
    if isinstance(data, list):
        data = {"edits": data}
    try:
        return PhaseEdits.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        raise DecisionError(f"{where or 'edits'}: {err.get('msg', 'invalid')}") from None


class ReviewService:
    """Runs as one reviewer may see and steer them."""

    def __init__(self, settings: Settings, runs: Runs, api: ApiSettings) -> None:
        self.settings = settings
        self.runs = runs
        self.api = api
        self._pool = ThreadPoolExecutor(max_workers=api.workers,
                                        thread_name_prefix="ktmb-run")
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        self._controls: dict[str, RunControl] = {}
        self._queue: Any = None
        if api.executor == "queue":
            from workflow.queue import RunQueue  # procrastinate loads only for this executor

            self._queue = RunQueue(runs.db)
        self._reads: OrderedDict[tuple[str, datetime, str], _Checkpoint] = OrderedDict()

    # ---- visibility ---------------------------------------------------------------------
    def visible_run(self, run_id: str, principal: Principal) -> RunInfo:
        """The run if the reviewer may see it.

        Raises:
            NotFoundError: no such run, or the reviewer may not see it (the same answer).
        """
        if not run_id or len(run_id) > 200:
            raise NotFoundError(f"no run with id {run_id[:200]!r}")
        info = self.runs.info(run_id)
        if not can_see(info, principal):
            raise NotFoundError(f"no run with id {run_id!r}")
        return info

    def list_runs(self, principal: Principal, *, application: str | None = None,
                  status: RunStatus | None = None, limit: int = 100) -> list[RunSummary]:
        """The runs the reviewer may see, newest first."""
        rows = self.runs.store.list_runs(application=application, status=status, limit=limit,
                                         viewer=principal.user,
                                         viewer_groups=tuple(principal.groups))
        visible = [r for r in rows if can_see(r, principal)]  # the same rule, in SQL and here
        return [RunSummary.model_validate(r.model_dump(exclude={"inputs"})) for r in visible]

    def busy(self, run_id: str) -> bool:
        """Whether the run is being executed (here, or by a queue worker, or queued for one)."""
        with self._lock:
            if run_id in self._busy:
                return True
        if self._queue is not None:
            return any(p.pending for p in self._queue.progress([run_id]))
        return False

    # ---- reading ------------------------------------------------------------------------
    def status(self, run_id: str, principal: Principal) -> RunDetail:
        """A run's status, phase by phase, with its approvals."""
        info = self.visible_run(run_id, principal)
        phases = self._checkpoint(info).phases
        progress = []
        for phase in PHASES:
            record = phases.get(phase.value) or {}
            state = str(record.get("status", "pending"))
            if info.status is RunStatus.AWAITING_APPROVAL and phase.value == info.pending_phase:
                state = "awaiting_approval"
            elif (info.status is RunStatus.RUNNING and phase.value == info.current_phase
                  and not record):
                state = "running"
            progress.append(PhaseProgress(
                phase=phase.value, status=state, findings=int(record.get("findings", 0) or 0),
                needs_approval=phase.value in info.approval_policy))
        approvals = [ApprovalRecord.model_validate(a) for a in self.runs.store.approvals(run_id)]
        version = None
        if info.status is RunStatus.COMPLETED:
            stored = self.runs.store.threat_model(run_id)
            version = stored[0] if stored else None
        return RunDetail(
            **info.model_dump(exclude={"inputs", "options", "inputs_digest"}),
            busy=self.busy(run_id), phases=progress, approvals=approvals, version=version)

    def pending(self, run_id: str, principal: Principal) -> PendingPhase:
        """The phase waiting for approval and its findings.

        Raises:
            RunStateError: the run is not waiting for approval.
        """
        info = self.visible_run(run_id, principal)
        waiting = info.status is RunStatus.AWAITING_APPROVAL
        payload = self._checkpoint(info).pending if waiting else None
        if payload is None or self.busy(run_id):
            raise RunStateError(f"run {run_id} is not waiting for approval "
                                f"(status: {'running' if self.busy(run_id) else info.status})")
        findings = [Finding.model_validate(f) for f in payload.get("findings") or []]
        paths = [AttackPath.model_validate(p) for p in payload.get("attack_paths") or []]
        return PendingPhase(run_id=run_id, phase=str(payload.get("phase")), findings=findings,
                            scores=str(payload.get("scores") or ""), attack_paths=paths,
                            drift=payload.get("drift"))

    def threat_model(self, run_id: str, principal: Principal) -> ThreatModel:
        """The run's threat model (partial and marked so when the run has not finished)."""
        self.visible_run(run_id, principal)
        return self.runs.threat_model(run_id)

    def export(self, run_id: str, principal: Principal, fmt: str) -> ExportDocument:
        """An export of the run's threat model.

        Raises:
            ConfigError: an unknown format.
        """
        if fmt not in FORMATS:
            raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got {fmt[:40]!r}")
        model = self.threat_model(run_id, principal)
        text = export(model, fmt)
        return ExportDocument(text=text, media_type=MEDIA_TYPES[fmt],
                              filename=f"{run_id}{SUFFIXES[fmt]}")

    def diff(self, run_a: str, run_b: str, principal: Principal) -> dict[str, Any]:
        """Compare two runs' threat models, in the shape of :func:`workflow.diff.json_payload`."""
        old = self.threat_model(run_a, principal)
        new = self.threat_model(run_b, principal)
        return json_payload(diff_models(old, new))

    def _checkpoint(self, info: RunInfo) -> _Checkpoint:
        """The phase records and pending payload of a run's latest checkpoint.

        Reading a checkpoint deserialises the run's whole state (its inputs included), so the
        reads of a settled run (waiting at a gate, finished) are kept, keyed by the row's
        ``updated_at`` and status: every change of a settled run's checkpoint goes with a change
        of its row (a decision sets it running), so a kept read is never stale.
        """
        key = (info.run_id, info.updated_at, info.status)
        with self._lock:
            kept = self._reads.get(key)
            if kept is not None:
                self._reads.move_to_end(key)
                return kept
        snapshot = self.runs.graph.get_state({"configurable": {"thread_id": info.run_id}})
        values = snapshot.values or {}
        pending = None
        if snapshot.interrupts and isinstance(snapshot.interrupts[0].value, dict):
            pending = dict(snapshot.interrupts[0].value)
        read = _Checkpoint(phases=dict(values.get("phases") or {}), pending=pending)
        if info.status.settled:
            with self._lock:
                self._reads[key] = read
                while len(self._reads) > _CACHE_SIZE:
                    self._reads.popitem(last=False)
        return read

    # ---- starting -----------------------------------------------------------------------
    def start_upload(self, principal: Principal, manifests: Sequence[Upload],
                     architecture: Sequence[Upload], options: StartOptions, *,
                     profile: Upload | None = None,
                     suppressions: Upload | None = None) -> RunAccepted:
        """Start a run on uploaded manifests (and notes); the phases run in the background.

        The files are read from the request's spooled files, each within the size limit; the
        run keeps its redacted snapshot. ``profile`` and ``suppressions`` are the application's
        profile and suppressions file (a ``ktmb.yaml`` among the manifests is taken too).
        """
        loaded = load_uploads(manifests, architecture, settings=self.settings,
                              max_files=self.api.max_upload_files, profile=profile,
                              suppressions=suppressions)
        return self._start(principal, loaded.inputs, options, loaded.default_name)

    def start_paths(self, principal: Principal, paths: Sequence[str],
                    architecture: Sequence[str], options: StartOptions, *,
                    profile: str | None = None, suppressions: str | None = None) -> RunAccepted:
        """Start a run on server-side files inside ``KTMB_SERVER_PATHS``.

        Raises:
            ForbiddenError: a path (or a file a directory leads to) is outside them.
        """
        loaded = load_server_paths(paths, architecture, settings=self.settings,
                                   server_paths=self.api.server_paths, profile=profile,
                                   suppressions=suppressions)
        return self._start(principal, loaded.inputs, options, loaded.default_name)

    def _start(self, principal: Principal, inputs: LoadedInputs, options: StartOptions,
               default_name: str) -> RunAccepted:
        named = application_name(options.application, inputs, default_name)
        application = " ".join(named.split())[:200] or "app"
        policy = parse_approval_policy(options.approval)
        owners = self._owner_groups(principal, options.owner_groups)
        run_options = profile_options(self._run_options(options), inputs)
        baseline = self._baseline(options.baseline, principal)
        run_id = new_run_id(application)
        self.runs.start(inputs, application=application, approval=policy, options=run_options,
                        created_by=principal.user, owner_groups=owners, run_id=run_id,
                        execute=False, baseline=baseline)
        log.info("api_run_started", run_id=run_id, user=principal.user, files=len(inputs.files))
        if self._queue is not None:
            self._queue.enqueue(run_id)
        else:
            self._background(run_id, lambda control: self.runs.resume(run_id, control=control))
        return RunAccepted(run_id=run_id, status=RunStatus.QUEUED,
                           detail=f"{len(inputs.resources)} objects from {len(inputs.files)} "
                                  "files; the phases run in the background",
                           status_url=f"/runs/{run_id}")

    def _baseline(self, ref: str | None, principal: Principal) -> BaselineChoice:
        """What a start request compares with: a run the reviewer may see, none, or the latest.

        Raises:
            NotFoundError: no such run (or not visible).
            ConfigError: the run has not completed.
        """
        if ref is None or not ref.strip():
            return LATEST
        if ref.strip().lower() == "none":
            return None
        self.visible_run(ref, principal)
        stored = self.runs.store.threat_model(ref)
        if stored is None:
            raise ConfigError(f"baseline: run {ref[:200]} has not completed")
        return BaselineSnapshot.of_model(ThreatModel.model_validate_json(stored[1]), ref)

    # ---- triage -------------------------------------------------------------------------
    def record_triage(self, run_id: str, principal: Principal, edits: PhaseEdits) -> int:
        """Decisions on a run's findings, stored for its application's next runs."""
        self.visible_run(run_id, principal)
        return self.runs.record_triage(run_id, edits, by=principal.user)

    def triage_of(self, application: str, principal: Principal) -> list[TriageDecision]:
        """An application's stored decisions, for a reviewer who may see one of its runs.

        Raises:
            NotFoundError: no run of the application is visible to the reviewer.
        """
        if not self.list_runs(principal, application=application, limit=1):
            raise NotFoundError(f"no application {application[:200]!r}")
        return self.runs.triage.decisions(application)

    def _owner_groups(self, principal: Principal, wanted: Sequence[str] | None) -> list[str]:
        if wanted is None:
            return list(principal.groups)
        groups = list(dict.fromkeys(g.strip() for g in wanted if g.strip()))
        foreign = [g for g in groups if g not in principal.groups]
        if foreign:
            raise ForbiddenError(f"you can only give a run to groups you belong to "
                                      f"(not {', '.join(sorted(foreign))[:200]})")
        return groups

    def _run_options(self, options: StartOptions) -> RunOptions:
        try:
            provider = LlmProvider(options.llm)
        except ValueError:
            raise ConfigError(f"llm must be one of {', '.join(LlmProvider)}, "
                              f"got {options.llm[:40]!r}") from None
        model = options.model
        if provider is LlmProvider.LLAMACPP and model and ("/" in model
                                                          or model.endswith(".gguf")):
            model = str(allowed_path(model, self.api.server_paths))
        if provider is not LlmProvider.OFF and isinstance(self.runs.services, RunSetup):
            self.runs.services.model_client(provider, model)  # fail fast on a bad model
        return RunOptions(llm=LlmOptions(provider=provider, model=model), cloud=options.cloud,
                          classification=options.classification)

    # ---- deciding -----------------------------------------------------------------------
    def approve(self, run_id: str, principal: Principal, *, comment: str = "",
                edits: PhaseEdits | None = None) -> RunAccepted:
        """Approve the pending phase (with edits); the next phases run in the background."""
        return self._decide(run_id, principal, Decision.APPROVED, comment, edits)

    def reject(self, run_id: str, principal: Principal, *, reason: str) -> RunAccepted:
        """Reject the pending phase: the run stops as rejected."""
        if not reason.strip():
            raise DecisionError("a rejection needs a reason")
        return self._decide(run_id, principal, Decision.REJECTED, reason, None)

    def _decide(self, run_id: str, principal: Principal, decision: Decision, comment: str,
                edits: PhaseEdits | None) -> RunAccepted:
        info = self.visible_run(run_id, principal)
        if self._queue is not None and self.busy(run_id):
            raise RunStateError(f"run {run_id} has queued work; wait for a worker to take it")
        with self._lock:
            if run_id in self._busy:
                raise RunStateError(f"run {run_id} is being executed; wait for it to stop")
            self._busy.add(run_id)
        try:
            phase = self._validate(info, decision, principal.user, comment, edits)
        except BaseException:
            with self._lock:
                self._busy.discard(run_id)
            raise
        log.info("api_decision", run_id=run_id, phase=phase.value, decision=decision,
                 user=principal.user, edits=len(edits.edits) if edits else 0)
        if self._queue is not None:
            try:
                self._queue.enqueue_decision(
                    run_id, decision=decision, by=principal.user, comment=comment,
                    edits=edits.model_dump(mode="json") if edits else None)
            finally:
                with self._lock:
                    self._busy.discard(run_id)
        else:
            self._background(run_id, lambda control: self.runs.decide(
                run_id, decision=decision, by=principal.user, comment=comment, edits=edits,
                control=control), reserved=True)
        status = RunStatus.RUNNING if decision is Decision.APPROVED else RunStatus.REJECTED
        return RunAccepted(run_id=run_id, status=status,
                           detail=f"the {phase.value} phase was {decision.value}",
                           status_url=f"/runs/{run_id}")

    def _validate(self, info: RunInfo, decision: Decision, by: str, comment: str,
                  edits: PhaseEdits | None) -> Phase:
        """Check a decision exactly as :meth:`Runs.decide` will, before it is handed over."""
        snapshot = self.runs.graph.get_state({"configurable": {"thread_id": info.run_id}})
        if info.status is not RunStatus.AWAITING_APPROVAL or not snapshot.interrupts:
            raise RunStateError(f"run {info.run_id} is not waiting for approval "
                                f"(status: {info.status})")
        phase = Phase(snapshot.interrupts[0].value["phase"])
        try:
            verdict = PhaseDecision(phase=phase, decision=decision,
                                    by=by, comment=comment, at=datetime.now(UTC), edits=edits)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err.get("loc", ()))
            raise DecisionError(f"{where}: {err.get('msg', 'invalid')}") from None
        validate_decision(verdict, all_findings(snapshot.values))
        return phase

    # ---- background execution -----------------------------------------------------------
    def _background(self, run_id: str, work: Callable[[RunControl], Any], *,
                    reserved: bool = False) -> None:
        with self._lock:
            if not reserved:
                self._busy.add(run_id)

        def job() -> None:
            control = RunControl()
            with self._lock:
                self._controls[run_id] = control
            try:
                outcome = work(control)
                log.info("api_run_settled", run_id=run_id,
                         status=getattr(outcome, "status", None))
            except KtmbError as exc:
                log.warning("api_run_stopped", run_id=run_id, error=str(exc))
            except Exception as exc:
                log.error("api_run_crashed", run_id=run_id,
                          error=one_line(exc, limit=300, with_type=False),
                          kind=type(exc).__name__)
            finally:
                with self._lock:
                    self._busy.discard(run_id)
                    self._controls.pop(run_id, None)

        self._pool.submit(job)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no run executes in the background (tests, shutdown); True when idle."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._busy:
                    return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        """Stop taking work; runs in progress stop after their current node.

        Those runs become ``interrupted``; work not started yet is dropped (its runs stay
        ``queued``). ``ktmb resume`` continues either.
        """
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            for control in self._controls.values():
                control.request_drain("server shutdown")
        if self._queue is not None:
            self._queue.close()
