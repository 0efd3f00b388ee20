"""JSON request bodies that write a key twice in one object are refused (422).

A JSON parser keeps the last of two equal keys, and the pydantic model a route reads sees only
that one: ``{"severity": "low", "severity": "critical"}`` in an approval's edits would be applied
as critical while a reviewer reading the body saw low. Every route of the JSON API is a
:class:`UniqueKeysRoute`, which reads the body once more before FastAPI does, with a parser
that refuses such a key, as ``ktmb approve --edits`` and the manifest loader refuse it in a
file. Form posts (the web UI, uploads) carry no JSON and are not affected.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["UniqueKeysRoute", "duplicate_key"]


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def duplicate_key(body: bytes) -> str | None:
    """The first key a JSON text writes twice in one object; None if none (or not JSON)."""
    try:
        json.loads(body, object_pairs_hook=_unique)
    except _DuplicateKeyError as exc:
        return exc.key
    except ValueError:  # not JSON: FastAPI answers that itself
        return None
    return None


def _is_json(request: Request) -> bool:
    """Whether FastAPI reads the body as JSON (as it does when no content type is given)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return not media or media == "application/json" or (
        media.startswith("application/") and media.endswith("+json"))


class UniqueKeysRoute(APIRoute):
    """A route whose JSON body may not write a key twice in one object."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, after the body is checked for duplicate keys."""
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            if _is_json(request):
                key = duplicate_key(await request.body())  # kept for FastAPI's own read
                if key is not None:
                    raise RequestValidationError([{
                        "loc": ("body",), "type": "value_error",
                        "msg": f"duplicate key {key!r} in the JSON body"}])
            return await handler(request)

        return checked
