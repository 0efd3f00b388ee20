"""Request bodies: authenticated before they are read, and capped (``KTMB_MAX_REQUEST_BYTES``).

:class:`BodyGuard` is a pure ASGI middleware in front of every route, so it holds whatever a
route does with the body:

- A request that carries a body (a ``Content-Length`` above 0, or a ``Transfer-Encoding``) must
  be authenticated before any of it is received: without a valid credential it gets 401 (the web
  UI: the login page) at once. The login and logout forms are the exception, with a 16 KiB cap.
- Multipart uploads may be ``KTMB_MAX_REQUEST_BYTES`` in all (64 MiB by default; their files are
  spooled to temporary files as they arrive, and each is held to ``KTMB_MAX_FILE_BYTES`` when
  it is read); other bodies (JSON, forms) 1 MiB, or less when that setting is lower.
- A declared ``Content-Length`` over the cap gets 413 before the body is read; a body streamed
  without one is counted chunk by chunk and stopped with 413 as soon as it passes the cap. Each
  refusal closes the connection, so the rest of the body is never read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException

from workflow.api.deps import authenticate

__all__ = ["FORM_BODY_BYTES", "PUBLIC_FORM_BYTES", "BodyGuard", "BodyTooLargeError"]

#: Cap of bodies that are not multipart uploads (JSON requests, URL-encoded forms).
FORM_BODY_BYTES = 1024 * 1024
#: Cap of the forms that are posted without a session (login, logout).
PUBLIC_FORM_BYTES = 16 * 1024
_PUBLIC_FORMS = frozenset({"/ui/login", "/ui/logout"})

_Scope = MutableMapping[str, Any]
_Message = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[_Message]]
_Send = Callable[[_Message], Awaitable[None]]
_ASGIApp = Callable[[_Scope, _Receive, _Send], Awaitable[None]]
#: Builds an error response: (request, status, kind, one-line detail, extra headers).
Refusal = Callable[[Request, int, str, str, dict[str, str] | None], Response]


class BodyTooLargeError(HTTPException):
    """The request body is over its cap (413)."""

    def __init__(self, limit: int, setting: str) -> None:
        super().__init__(status_code=413, detail=f"the request body is over the limit of "
                                                 f"{limit:,} bytes ({setting})")


class BodyGuard:
    """Authenticate requests that carry a body before reading it, and cap the body."""

    def __init__(self, app: _ASGIApp, *, max_request_bytes: int, refuse: Refusal) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes
        self.refuse = refuse

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        """Refuse or cap the request's body, then hand the request to the app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = _declared_length(headers)
        if not declared and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body: the route authenticates as ever
            return
        request = Request(scope, receive)
        public = scope["method"] == "POST" and scope["path"] in _PUBLIC_FORMS
        if not public:
            try:
                principal = await authenticate(request)
            except HTTPException as exc:
                await self._refuse(request, send, exc.status_code, "Unauthorized",
                                   str(exc.detail), exc.headers)
                return
            if principal is None:
                await self._refuse(request, send, 401, "Unauthorized",
                                   "authentication required before a request body: send "
                                   "'Authorization: Bearer TOKEN'",
                                   {"WWW-Authenticate": 'Bearer realm="ktmb"'})
                return
        limit, setting = self._cap(headers, public)
        if declared is not None and declared > limit:
            too_large = BodyTooLargeError(limit, setting)
            await self._refuse(request, send, 413, "TooLarge", too_large.detail, None)
            return
        await self._counted(scope, receive, send, request, limit, setting)

    def _cap(self, headers: Headers, public: bool) -> tuple[int, str]:
        """The cap of this request's body and the setting (or rule) that sets it."""
        if public:
            return PUBLIC_FORM_BYTES, "login and logout forms"
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type == "multipart/form-data" or self.max_request_bytes <= FORM_BODY_BYTES:
            return self.max_request_bytes, "KTMB_MAX_REQUEST_BYTES"
        return FORM_BODY_BYTES, "JSON and form bodies"

    async def _counted(self, scope: _Scope, receive: _Receive, send: _Send, request: Request,
                       limit: int, setting: str) -> None:
        """Run the app with a receive that stops the body at ``limit``."""
        received = 0
        over = False
        started = False

        async def limited_receive() -> _Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise BodyTooLargeError(limit, setting)
            return message

        async def closing_send(message: _Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if over:  # the rest of the body stays unread: end the connection
                    message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        try:
            await self.app(scope, limited_receive, closing_send)
        except BodyTooLargeError as exc:  # a route that let it through unanswered
            if started:
                raise
            await self._refuse(request, send, 413, "TooLarge", exc.detail, None)

    async def _refuse(self, request: Request, send: _Send, status: int, kind: str,
                      detail: str, headers: Mapping[str, str] | None) -> None:
        """Answer with the app's error response, and close the connection after it."""
        response = self.refuse(request, status, kind, detail, dict(headers or {}))
        response.headers["connection"] = "close"
        await response(request.scope, request.receive, send)


def _declared_length(headers: Headers) -> int | None:
    """The ``Content-Length`` of the request (None when absent or not a number)."""
    text = headers.get("content-length")
    if text is None or not text.strip().isdigit():
        return None
    return int(text)
