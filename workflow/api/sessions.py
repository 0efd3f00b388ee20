"""Sessions of the web UI, kept in PostgreSQL (``ui_sessions``; SQL in ``sessions.sql``).

The session cookie holds a random id (256 bits); the table keeps its SHA-256, never the id
itself, with the reviewer, a credential that ties the session to the API token it was opened
with, and its expiry (``KTMB_SESSION_HOURS``). Logout revokes the session: the old cookie
value is refused from then on, by every process that shares the database.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from workflow.db import Database
from workflow.domain.named_queries import load_queries

__all__ = ["SessionRecord", "SessionStore", "credential", "session_digest"]

_Q = load_queries(Path(__file__).with_name("sessions.sql"))
#: What a session id looks like (``secrets.token_urlsafe(32)``); anything else is not looked up.
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")


def session_digest(session_id: str) -> str:
    """The SHA-256 of a session id, as the table keys it."""
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def credential(session_id: str, token_digest: str) -> str:
    """What ties a session to the API token it was opened with (an HMAC keyed by the id)."""
    return hmac.new(session_id.encode("ascii"), token_digest.encode("ascii"),
                    hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SessionRecord:
    """A live session: its reviewer and its credential."""

    principal: str
    credential: str


class SessionStore:
    """Opens, finds and revokes sessions."""

    def __init__(self, db: Database, lifetime: timedelta) -> None:
        self.db = db
        self.lifetime = lifetime

    def open(self, principal: str, token_digest: str) -> str:
        """A new session of ``principal`` for the token with ``token_digest``; its id.

        Expired and revoked sessions are deleted first.
        """
        session_id = secrets.token_urlsafe(32)
        with self.db.connection() as conn:
            conn.execute(_Q["purge_sessions"])
            conn.execute(_Q["create_session"], {
                "id_sha256": session_digest(session_id), "principal": principal,
                "credential": credential(session_id, token_digest), "lifetime": self.lifetime})
        return session_id

    def find(self, session_id: str) -> SessionRecord | None:
        """The live session with this id, or None (unknown, revoked, expired or malformed)."""
        if not _SESSION_ID.fullmatch(session_id):
            return None
        with self.db.connection() as conn:
            row = conn.execute(_Q["find_session"],
                               {"id_sha256": session_digest(session_id)}).fetchone()
        if row is None:
            return None
        return SessionRecord(principal=row["principal"], credential=row["credential"])

    def revoke(self, session_id: str) -> None:
        """End the session: its id is refused from now on."""
        if not _SESSION_ID.fullmatch(session_id):
            return
        with self.db.connection() as conn:
            conn.execute(_Q["revoke_session"], {"id_sha256": session_digest(session_id)})
