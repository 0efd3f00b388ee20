"""The triage decisions of each application in PostgreSQL (SQL in ``triage.sql``).

One row per application and finding fingerprint holds the decision in force (the latest), with
the digest of the evidence it was taken on; ``triage_history`` keeps every decision. Runs read
an application's decisions when they start (:meth:`TriageStore.decisions`) and re-apply them
(:class:`workflow.domain.triage.TriageSet`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb

from workflow.db import Database
from workflow.domain.named_queries import load_queries
from workflow.domain.triage import TriageDecision

__all__ = ["TriageStore"]

_Q = load_queries(Path(__file__).with_name("triage.sql"))


def _row(row: dict[str, Any]) -> TriageDecision:
    return TriageDecision(
        finding=row["finding_id"], rule=row["rule"], phase=row["phase"],
        evidence=row["evidence_sha256"], status=row["status"], severity=row["severity"],
        notes=tuple(row["notes"] or ()), owner=row["owner"], reason=row["reason"],
        expires=row["expires"], by=row["decided_by"], at=row["decided_at"],
        run_id=row["run_id"])


class TriageStore:
    """Repository of triage decisions, per application."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, application: str, decisions: Iterable[TriageDecision]) -> int:
        """Keep these decisions as the application's decisions in force; how many were kept."""
        count = 0
        with self.db.connection() as conn, conn.transaction():
            for decision in decisions:
                data = decision.model_dump(mode="json")
                conn.execute(_Q["record_decision"], {
                    "application": application, "finding_id": decision.finding,
                    "rule": decision.rule, "phase": decision.phase,
                    "evidence_sha256": decision.evidence, "status": decision.status.value,
                    "severity": decision.severity.value if decision.severity else None,
                    "notes": Jsonb(data["notes"]), "owner": decision.owner,
                    "reason": decision.reason, "expires": decision.expires,
                    "decided_by": decision.by, "decided_at": decision.at,
                    "run_id": decision.run_id})
                conn.execute(_Q["record_history"], {
                    "application": application, "finding_id": decision.finding,
                    "decision": Jsonb(data), "decided_by": decision.by,
                    "decided_at": decision.at, "run_id": decision.run_id})
                count += 1
        return count

    def decisions(self, application: str) -> list[TriageDecision]:
        """The application's decisions in force, by fingerprint."""
        with self.db.connection() as conn:
            rows = conn.execute(_Q["decisions_of"], {"application": application}).fetchall()
        return [_row(r) for r in rows]

    def history(self, application: str, finding: str | None = None) -> list[dict[str, Any]]:
        """Every decision taken on the application's findings (or one finding), oldest first."""
        with self.db.connection() as conn:
            return list(conn.execute(_Q["history_of"], {
                "application": application, "finding_id": finding}).fetchall())
