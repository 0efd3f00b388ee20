"""Who is asking: API tokens, a trusted reverse-proxy header, or the web UI's session cookie.

Authentication, in this order:

1. ``Authorization: Bearer TOKEN``: the token must be in ``KTMB_API_TOKENS_FILE`` (one
   ``TOKEN USER [GROUP,GROUP...]`` per line). A bearer token that is present but unknown is
   refused even if a cookie or a header would also authenticate the request.
2. The trusted header (``KTMB_TRUSTED_HEADER_USER``, groups in ``KTMB_TRUSTED_HEADER_GROUPS``),
   only when configured and only on connections from ``KTMB_TRUSTED_PROXIES``. Anyone who can
   reach the service directly could forge such a header: bind ``ktmb serve`` to loopback (or a
   private network only the proxy reaches) when you use it, and let the proxy strip these
   headers from its clients' requests.
3. The session cookie of the web UI (set by its login form, HttpOnly, SameSite=Strict): it holds
   a random session id kept server-side (:mod:`workflow.api.sessions`), never the API token. A
   session lasts ``KTMB_SESSION_HOURS``, ends at logout, and ends when the token it was opened
   with leaves the tokens file.

State-changing requests authenticated by the cookie or the trusted header also need the
per-session CSRF token (a hidden form field, or the ``X-CSRF-Token`` header), and every
state-changing request with an ``Origin`` header must come from this service's own origin.

A reviewer's groups decide what they see: a run is visible when it has no owner groups, when
its owner groups share one with the reviewer's, or when the reviewer started it. Invisible runs
answer 404, exactly like runs that do not exist.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import stat
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import structlog

from workflow.api.config import ApiSettings
from workflow.api.sessions import SessionStore, credential
from workflow.domain.errors import ConfigError
from workflow.run_store import RunInfo

__all__ = ["SESSION_COOKIE", "Authenticator", "Principal", "TokenTable", "can_see"]

log = structlog.get_logger(__name__)

#: Name of the web UI's session cookie.
SESSION_COOKIE = "ktmb_session"

_GROUP = re.compile(r"^[A-Za-z0-9._@:/+-]{1,128}$")
_USER = re.compile(r"^[^\x00-\x1f\x7f]{1,256}$")


@dataclass(frozen=True)
class Principal:
    """An authenticated reviewer."""

    user: str
    groups: tuple[str, ...]
    via: Literal["token", "header", "cookie"]
    session: str = ""  # a digest of the credential or session id: the CSRF token's seed


def can_see(info: RunInfo, principal: Principal) -> bool:
    """Whether the reviewer may see the run (owner groups shared, none set, or its creator)."""
    if not info.owner_groups or info.created_by == principal.user:
        return True
    return bool(set(info.owner_groups) & set(principal.groups))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def parse_groups(text: str | None) -> tuple[str, ...]:
    """Comma-separated groups; invalid names are dropped."""
    groups = [g.strip() for g in (text or "").split(",") if g.strip()]
    return tuple(dict.fromkeys(g for g in groups if _GROUP.match(g)))


class TokenTable:
    """The tokens file, re-read when it changes; tokens are kept only as SHA-256 digests.

    Raises:
        ConfigError: the file cannot be read, a line is malformed, or it holds no token.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._entries: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._load()
        if not self._entries:  # like a missing file: the service would let nobody in
            raise ConfigError(f"KTMB_API_TOKENS_FILE {self.path}: no tokens "
                              "(one 'TOKEN USER [GROUP,GROUP...]' per line)")

    def _load(self) -> None:
        try:
            info = self.path.stat()
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"KTMB_API_TOKENS_FILE {self.path}: cannot read: "
                              f"{getattr(exc, 'strerror', None) or exc}") from None
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("api_tokens_file_readable_by_others", path=str(self.path))
        entries: dict[str, tuple[str, tuple[str, ...]]] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            where = f"KTMB_API_TOKENS_FILE {self.path}:{number}"
            if len(parts) not in (2, 3):
                raise ConfigError(f"{where}: expected 'TOKEN USER [GROUP,GROUP...]'")
            token, user = parts[0], parts[1]
            if len(token) < 16:
                raise ConfigError(f"{where}: the token is shorter than 16 characters")
            if not _USER.match(user):
                raise ConfigError(f"{where}: invalid user name")
            digest = _digest(token)
            if digest in entries:
                raise ConfigError(f"{where}: the same token appears twice")
            entries[digest] = (user, parse_groups(parts[2] if len(parts) == 3 else ""))
        self._entries = entries
        self._stamp = (info.st_mtime, info.st_size)

    def _current(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """The entries, re-read first when the file changed."""
        with self._lock:
            try:
                info = self.path.stat()
                if (info.st_mtime, info.st_size) != self._stamp:
                    self._load()
            except (OSError, ConfigError) as exc:
                log.warning("api_tokens_file_unusable", reason=str(exc))
            return self._entries

    def lookup(self, token: str) -> tuple[str, tuple[str, ...], str] | None:
        """(user, groups, digest) of a token, or None when it is unknown."""
        digest = _digest(token)
        entry = self._current().get(digest)
        if entry is None:
            return None
        return entry[0], entry[1], digest

    def of_user(self, user: str) -> list[tuple[tuple[str, ...], str]]:
        """(groups, digest) of each token of ``user``."""
        return [(groups, digest) for digest, (owner, groups) in self._current().items()
                if owner == user]


class Authenticator:
    """Resolves the principal of a request, opens and ends sessions, signs CSRF tokens."""

    def __init__(self, api: ApiSettings, tokens: TokenTable | None,
                 sessions: SessionStore | None) -> None:
        api.require_authentication()
        self.api = api
        self.tokens = tokens
        self.sessions = sessions if tokens is not None else None
        self._secret = secrets.token_bytes(32)

    def from_token(self, token: str) -> Principal | None:
        """The principal of an API token, or None."""
        if self.tokens is None or not token:
            return None
        found = self.tokens.lookup(token)
        if found is None:
            return None
        user, groups, digest = found
        return Principal(user=user, groups=groups, via="token", session=digest)

    def login(self, token: str) -> tuple[Principal, str] | None:
        """A new session for the holder of an API token: (principal, session id), or None."""
        if self.sessions is None:
            return None
        principal = self.from_token(token)
        if principal is None:
            return None
        session_id = self.sessions.open(principal.user, principal.session)
        return self._session_principal(principal.user, principal.groups, session_id), session_id

    def from_session(self, session_id: str) -> Principal | None:
        """The principal of a live session whose token is still in the tokens file, or None."""
        if self.sessions is None or self.tokens is None:
            return None
        record = self.sessions.find(session_id)
        if record is None:
            return None
        for groups, digest in self.tokens.of_user(record.principal):
            if hmac.compare_digest(credential(session_id, digest), record.credential):
                return self._session_principal(record.principal, groups, session_id)
        return None

    def logout(self, session_id: str) -> None:
        """Revoke a session."""
        if self.sessions is not None:
            self.sessions.revoke(session_id)

    @staticmethod
    def _session_principal(user: str, groups: tuple[str, ...], session_id: str) -> Principal:
        # The CSRF seed is derived from the id, so it differs per session and is not stored.
        return Principal(user=user, groups=groups, via="cookie",
                         session=_digest(f"session\0{session_id}"))

    def from_header(self, headers: dict[str, str], client: str | None) -> Principal | None:
        """The principal named by the trusted proxy headers, or None."""
        name = self.api.trusted_header_user
        if not name or client not in self.api.trusted_proxies:
            return None
        user = (headers.get(name.lower()) or "").strip()
        if not user or not _USER.match(user):
            return None
        groups_header = self.api.trusted_header_groups
        groups = parse_groups(headers.get(groups_header.lower())) if groups_header else ()
        session = _digest(f"header\0{user}\0{','.join(groups)}")
        return Principal(user=user, groups=groups, via="header", session=session)

    def csrf_token(self, principal: Principal) -> str:
        """The CSRF token of the principal's session."""
        return hmac.new(self._secret, f"csrf\0{principal.session}".encode(),
                        hashlib.sha256).hexdigest()[:40]

    def csrf_ok(self, principal: Principal, candidates: Iterable[str | None]) -> bool:
        """Whether one of the presented values is the session's CSRF token."""
        expected = self.csrf_token(principal)
        return any(c is not None and hmac.compare_digest(c, expected) for c in candidates)
