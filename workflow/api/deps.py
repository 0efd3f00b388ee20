"""Request dependencies: the service, the authenticated principal, CSRF and origin checks.

A request is authenticated once: the principal (or its absence) is kept in the request's
scope, where the body guard (:mod:`workflow.api.limits`) may already have put it before the
body was read. A session cookie is looked up in the database, off the event loop.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from workflow.api.auth import SESSION_COOKIE, Authenticator, Principal
from workflow.api.service import ReviewService

__all__ = [
    "CurrentPrincipal",
    "Service",
    "WritingPrincipal",
    "authenticate",
    "authenticator",
    "check_origin",
    "optional_principal",
    "principal_dep",
    "require_writer",
    "service",
    "service_dep",
]

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: Where a request's principal is kept once it is known (None: no credential).
_PRINCIPAL = "ktmb.principal"


async def service_dep(request: Request) -> ReviewService:
    """The review service (async: resolved on the event loop, no thread hop)."""
    return service(request)


async def principal_dep(request: Request) -> Principal:
    """The principal of the request.

    Raises:
        HTTPException: 401 when the request is not authenticated.
    """
    principal = await authenticate(request)
    if principal is None:
        raise _unauthorized("authentication required: send 'Authorization: Bearer TOKEN'")
    return principal


async def authenticate(request: Request) -> Principal | None:
    """:func:`optional_principal`, on the event loop unless a session must be looked up.

    Raises:
        HTTPException: 401 for a bearer token or session cookie that is not valid.
    """
    if _PRINCIPAL in request.scope:
        known: Principal | None = request.scope[_PRINCIPAL]
        return known
    if "authorization" not in request.headers and request.cookies.get(SESSION_COOKIE):
        return await run_in_threadpool(optional_principal, request)
    return optional_principal(request)  # a dict lookup and a stat: no thread hop


def service(request: Request) -> ReviewService:
    """The review service of the app."""
    svc: ReviewService = request.app.state.service
    return svc


def authenticator(request: Request) -> Authenticator:
    """The authenticator of the app."""
    auth: Authenticator = request.app.state.auth
    return auth


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail,
                         headers={"WWW-Authenticate": 'Bearer realm="ktmb"'})


def optional_principal(request: Request) -> Principal | None:
    """The principal of the request, or None when it carries no credential.

    Raises:
        HTTPException: 401 for a bearer token or session cookie that is not valid.
    """
    if _PRINCIPAL in request.scope:
        known: Principal | None = request.scope[_PRINCIPAL]
        return known
    principal = _resolve(request)
    request.scope[_PRINCIPAL] = principal
    return principal


def _resolve(request: Request) -> Principal | None:
    auth = authenticator(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("the Authorization header must be 'Bearer TOKEN'")
        principal = auth.from_token(token.strip())
        if principal is None:
            raise _unauthorized("the API token is not valid")
        return principal
    client = request.client.host if request.client else None
    principal = auth.from_header(dict(request.headers), client)
    if principal is not None:
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal = auth.from_session(cookie)
        if principal is None:
            raise _unauthorized("your session is no longer valid; log in again")
        return principal
    return None


def check_origin(request: Request) -> None:
    """Refuse a state-changing request whose ``Origin`` is another site.

    Raises:
        HTTPException: 403 for a cross-origin request.
    """
    if request.method in _SAFE_METHODS:
        return
    origin = request.headers.get("origin")
    if origin is None:
        return
    # Compare hosts only: behind a TLS-terminating proxy the browser says https, we see http.
    if urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower():
        raise HTTPException(status_code=403, detail="cross-origin request refused")


async def require_writer(request: Request,
                         principal: Annotated[Principal, Depends(principal_dep)]) -> Principal:
    """The principal of a state-changing API request (origin and, for sessions, CSRF checked).

    Raises:
        HTTPException: 403 for a cross-origin request or a missing or wrong CSRF token.
    """
    check_origin(request)
    if principal.via != "token" and not authenticator(request).csrf_ok(
            principal, [request.headers.get("x-csrf-token")]):
        raise HTTPException(status_code=403, detail="missing or wrong X-CSRF-Token header "
                                                    "(GET /me gives the token)")
    return principal


Service = Annotated[ReviewService, Depends(service_dep)]
CurrentPrincipal = Annotated[Principal, Depends(principal_dep)]
WritingPrincipal = Annotated[Principal, Depends(require_writer)]
