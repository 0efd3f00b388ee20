"""The FastAPI application: JSON API, web UI, error handling and security headers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from workflow import __version__
from workflow.api.auth import SESSION_COOKIE, Authenticator, TokenTable
from workflow.api.config import ApiSettings, load_api_settings
from workflow.api.limits import BodyGuard
from workflow.api.routes import router
from workflow.api.service import ReviewService
from workflow.api.sessions import SessionStore
from workflow.api.web import mount_ui, render_error
from workflow.db import open_database
from workflow.domain.errors import KtmbError
from workflow.domain.settings import Settings
from workflow.run_setup import RunSetup
from workflow.runs import Runs

__all__ = ["create_app", "open_runs"]

log = structlog.get_logger(__name__)

_Scope = MutableMapping[str, Any]
_Message = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[_Message]]
_Send = Callable[[_Message], Awaitable[None]]
_ASGIApp = Callable[[_Scope, _Receive, _Send], Awaitable[None]]

DESCRIPTION = """\
Review Kubernetes threat models phase by phase: start runs, read the pending phase's findings,
approve, reject or edit them, export the model (JSON, SARIF 2.1.0, Markdown, HTML, Mermaid, OTM)
and diff two versions of an application.

**Authentication.** `Authorization: Bearer TOKEN` with a token from `KTMB_API_TOKENS_FILE`
(one `TOKEN USER [GROUP,GROUP...]` per line), or a header set by a trusted reverse proxy
(`KTMB_TRUSTED_HEADER_USER`, groups in `KTMB_TRUSTED_HEADER_GROUPS`; honoured only when
configured and only from `KTMB_TRUSTED_PROXIES`, so bind the service where only the proxy
reaches it). Requests authenticated by the proxy header or the web UI's cookie must send
`X-CSRF-Token` (from `GET /me`) on state-changing calls.

**Visibility.** A run is visible when it has no owner groups, shares a group with you, or you
started it; any other run answers 404. Knowledge-base collections follow the same groups.

**Request bodies.** A request with a body is authenticated before the body is read (401 at
once otherwise). Uploads may be `KTMB_MAX_REQUEST_BYTES` (64 MiB) in all, JSON bodies 1 MiB;
a larger body gets 413 and the connection is closed.

**Errors.** Every error is `{"error": kind, "detail": one line}` with a 4xx status for a request
the client can fix, 503 when the database is down, 500 (one line, no trace) otherwise.
"""

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "SAMEORIGIN",
    "cross-origin-opener-policy": "same-origin",
}
#: Content-Security-Policy of the web UI pages (the app's own script and styles only).
UI_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
          "frame-ancestors 'none'; base-uri 'none'")


class _Guard:
    """Outermost handler: security headers on every response; a one-line 500 for any crash."""

    def __init__(self, app: _ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: _Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {k.decode("latin-1").lower() for k, _ in headers}
                for key, value in SECURITY_HEADERS.items():
                    if key not in present:
                        headers.append((key.encode("latin-1"), value.encode("latin-1")))
                if "content-security-policy" not in present:
                    headers.append((b"content-security-policy", UI_CSP.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            log.error("api_internal_error", kind=type(exc).__name__,
                      path=str(scope.get("path", ""))[:200],
                      error=(str(exc).splitlines() or [""])[0][:300])
            if started:
                raise
            response = JSONResponse(
                {"error": "InternalError",
                 "detail": f"internal error ({type(exc).__name__}); see the server log"},
                status_code=500)
            await response(scope, receive, send_with_headers)


def _error_response(request: Request, status: int, kind: str, detail: str,
                    headers: dict[str, str] | None = None) -> Response:
    # A message may echo what the client sent: keep it encodable whatever that was.
    detail = detail.encode("utf-8", "backslashreplace").decode("utf-8")
    if request.url.path.startswith("/ui"):
        if status == 401:  # no session, or one that ended: log in (again)
            response = RedirectResponse(f"/ui/login?next={quote(request.url.path)}",
                                        status_code=303)
            if request.cookies.get(SESSION_COOKIE):
                response.delete_cookie(SESSION_COOKIE, path="/", httponly=True,
                                       samesite="strict")
            return response
        return render_error(request, status, kind, detail)
    return JSONResponse({"error": kind, "detail": detail}, status_code=status, headers=headers)


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(KtmbError)
    async def ktmb_error(request: Request, exc: KtmbError) -> Response:
        if exc.http_status >= 500:
            log.warning("api_error", kind=type(exc).__name__, error=str(exc))
        return _error_response(request, exc.http_status, type(exc).__name__, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        kinds = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                 405: "MethodNotAllowed", 413: "TooLarge"}
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint: {request.method} {request.url.path[:200]}"
        return _error_response(request, exc.status_code, kinds.get(exc.status_code, "HTTPError"),
                               detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        detail = "the request is not valid"
        if errors:  # the first problem is the one to fix; later ones are often its echoes
            err = errors[0]
            loc = ".".join(str(p) for p in err.get("loc", ()) if p not in {"body", "query"})
            msg = err.get("msg", "invalid")
            # A lone surrogate's message names where it is (its error is the whole body's).
            detail = msg if err.get("type") == "invalid_unicode" else f"{loc or 'request'}: {msg}"
        return _error_response(request, 422, "RequestValidationError", detail)


def open_runs(settings: Settings) -> Runs:
    """Open the database and the runs, with the knowledge base acting for each run's owners.

    Raises:
        DatabaseUnavailableError: the database cannot be reached.
    """
    db = open_database(settings, max_size=24)
    # RunSetup lets retrieval act for each run's creator and owner groups.
    return Runs(db, RunSetup(settings, db))


def create_app(settings: Settings, *, runs: Runs | None = None,
               api_settings: ApiSettings | None = None) -> FastAPI:
    """The ktmb HTTP service: JSON API under ``/``, web UI under ``/ui``.

    Args:
        settings: process settings (database, limits, redaction key).
        runs: the runs to serve (opened from ``settings`` when omitted).
        api_settings: authentication and paths (from the environment when omitted).

    Raises:
        ConfigError: no authentication is configured, or the tokens file is unusable or empty.
        DatabaseUnavailableError: the database cannot be reached.
    """
    api = api_settings or load_api_settings()
    api.require_authentication()
    tokens = TokenTable(api.tokens_file) if api.tokens_file is not None else None
    service = ReviewService(settings, runs or open_runs(settings), api)
    sessions = SessionStore(service.runs.db, timedelta(hours=api.session_hours))
    auth = Authenticator(api, tokens, sessions)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    app = FastAPI(title="ktmb — Kubernetes Threat Model Builder", version=__version__,
                  description=DESCRIPTION, docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.service = service
    app.state.auth = auth
    _install_handlers(app)
    app.include_router(router)
    mount_ui(app)
    app.add_middleware(BodyGuard, max_request_bytes=api.max_request_bytes,
                       refuse=_error_response)
    app.add_middleware(_Guard)
    return app
