"""Runs, approvals and threat-model versions in PostgreSQL (SQL in ``queries.sql``)."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict

from workflow.db import Database
from workflow.domain.errors import NotFoundError
from workflow.domain.named_queries import load_queries
from workflow.domain.run import Decision, RunOptions, RunStatus
from workflow.domain.run_sources import RunSources

__all__ = ["ORPHANED", "RunInfo", "RunStore"]

_Q = load_queries(Path(__file__).with_name("queries.sql"))
#: The error recorded on a run found ``running`` with no process executing it.
ORPHANED = ("the process executing the run stopped before recording it (killed, or cut off "
            "from the database); continue with 'ktmb resume {run_id}'")


class RunInfo(BaseModel):
    """A run as the runs table holds it."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    application: str
    status: RunStatus
    approval_policy: list[str]
    llm_provider: str
    llm_model: str | None
    inputs_digest: str
    inputs: list[dict[str, Any]]
    options: dict[str, Any]
    pending_phase: str | None
    current_phase: str | None
    error: str | None
    owner_groups: list[str]
    created_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    #: What the run read besides its inputs (NULL for runs stored before migration 0009).
    profile_sha256: str | None = None
    kb_digest: str | None = None

    @property
    def sources(self) -> RunSources | None:
        """The run's recorded sources; None when it recorded none (an older run)."""
        if self.kb_digest is None:
            return None
        return RunSources(profile_sha256=self.profile_sha256, kb_digest=self.kb_digest)


class RunStore:
    """Repository of runs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, *, run_id: str, application: str, approval_policy: list[str],
               options: RunOptions, inputs_digest: str, inputs: list[dict[str, Any]],
               owner_groups: list[str], created_by: str,
               status: RunStatus = RunStatus.RUNNING, sources: RunSources | None = None) -> None:
        """Insert a new run (with what it read besides its inputs, when known)."""
        sources = sources or RunSources()
        with self.db.connection() as conn:
            conn.execute(_Q["create_run"], {
                "run_id": run_id, "application": application, "status": status,
                "approval_policy": approval_policy, "llm_provider": options.llm.provider,
                "llm_model": options.llm.model, "inputs_digest": inputs_digest,
                "inputs": Jsonb(inputs), "options": Jsonb(options.model_dump(mode="json")),
                "owner_groups": owner_groups,
                "created_by": created_by, "profile_sha256": sources.profile_sha256,
                "kb_digest": sources.kb_digest})

    def set_status(self, run_id: str, status: RunStatus, *, pending_phase: str | None = None,
                   current_phase: str | None = None, error: str | None = None) -> None:
        """Record where a run stands."""
        with self.db.connection() as conn:
            conn.execute(_Q["set_status"], {
                "run_id": run_id, "status": status, "pending_phase": pending_phase,
                "current_phase": current_phase, "error": error})

    def set_current_phase(self, run_id: str, phase: str) -> None:
        """Record the phase that is running."""
        with self.db.connection() as conn:
            conn.execute(_Q["set_current_phase"], {"run_id": run_id, "current_phase": phase})

    def get(self, run_id: str) -> RunInfo:
        """A run by id.

        A run recorded as ``running`` whose run lock no session holds is not running: the
        process executing it was killed or lost the database before it could record that. It
        is marked ``interrupted`` here (and in :meth:`list_runs`), so it can be resumed.

        Raises:
            NotFoundError: no such run.
        """
        with self.db.connection() as conn:
            row = conn.execute(_Q["get_run"], {"run_id": run_id}).fetchone()
            if row is not None and row["status"] == RunStatus.RUNNING:
                row = conn.execute(_Q["interrupt_orphaned_runs"], {
                    "run_id": run_id, "reason": ORPHANED}).fetchone() or row
        if row is None:
            raise NotFoundError(f"no run with id {run_id!r}")
        return RunInfo.model_validate(row)

    def list_runs(self, *, application: str | None = None, status: RunStatus | None = None,
                  limit: int = 200, viewer: str | None = None,
                  viewer_groups: Sequence[str] = ()) -> list[RunInfo]:
        """Runs, newest first; with ``viewer``, only those that viewer may see.

        A viewer sees runs without owner groups, runs sharing one of ``viewer_groups``, and the
        runs it created (the same rule as ``workflow.api.auth.can_see``).
        """
        with self.db.connection() as conn:
            conn.execute(_Q["interrupt_orphaned_runs"], {"run_id": None, "reason": ORPHANED})
            rows = conn.execute(_Q["list_runs"], {
                "application": application, "status": status, "limit": limit,
                "viewer": viewer, "viewer_groups": list(viewer_groups)}).fetchall()
        return [RunInfo.model_validate(r) for r in rows]

    def record_approval(self, run_id: str, *, phase: str, decision: Decision, by: str,
                        comment: str,
                        edits: dict[str, Any] | None, at: datetime) -> None:
        """Keep who decided what and when."""
        with self.db.connection() as conn:
            conn.execute(_Q["record_approval"], {
                "run_id": run_id, "phase": phase, "decision": decision, "decided_by": by,
                "comment": comment, "edits": Jsonb(edits) if edits is not None else None,
                "decided_at": at})

    def approvals(self, run_id: str) -> builtins.list[dict[str, Any]]:
        """The decisions taken on a run, oldest first."""
        with self.db.connection() as conn:
            return list(conn.execute(_Q["approvals_of"], {"run_id": run_id}).fetchall())

    def save_threat_model(self, run_id: str, application: str, model_json: str) -> int:
        """Store the final model (its JSON text) as the application's next version.

        Two runs of one application that finish together would both read the same highest
        version; a transaction-scoped advisory lock per application makes them take turns.

        Returns the version.
        """
        with self.db.connection() as conn, conn.transaction():
            conn.execute(_Q["lock_application_versions"], {"application": application})
            row = conn.execute(_Q["save_threat_model"], {
                "run_id": run_id, "application": application, "model": model_json}).fetchone()
        return int(row["version"]) if row else 0

    def latest_threat_model(self, application: str,
                            exclude: str = "") -> tuple[str, str] | None:
        """The run id and model JSON of the application's latest completed run, if any."""
        with self.db.connection() as conn:
            row = conn.execute(_Q["latest_threat_model"], {
                "application": application, "exclude": exclude}).fetchone()
        return (row["run_id"], row["model"]) if row else None

    def threat_model(self, run_id: str) -> tuple[int, str] | None:
        """The stored final model of a run (its JSON text) and its version, if any."""
        with self.db.connection() as conn:
            row = conn.execute(_Q["get_threat_model"], {"run_id": run_id}).fetchone()
        return (int(row["version"]), row["model"]) if row else None

    @contextmanager
    def run_lock(self, run_id: str) -> Iterator[bool]:
        """Try to take the run's advisory lock for the ``with`` block; yields whether it was taken.

        The lock belongs to the session of a pooled connection held for the whole block, so only
        one process executes a run at a time, and a process that dies releases it with its
        session. Never waits: another holder means the run is being executed elsewhere.
        """
        with self.db.connection() as conn:
            row = conn.execute(_Q["try_run_lock"], {"run_id": run_id}).fetchone()
            locked = bool(row and row["locked"])
            try:
                yield locked
            finally:
                if locked:
                    try:
                        conn.execute(_Q["release_run_lock"], {"run_id": run_id})
                    except psycopg.OperationalError:
                        pass  # the session is gone, and the lock went with it
