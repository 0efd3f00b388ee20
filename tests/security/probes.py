"""What the security probes share: tokens, headers and the shape of a clean error."""

from __future__ import annotations

from typing import Any

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef00"


def auth(token: str) -> dict[str, str]:
    """The header that authenticates with an API token."""
    return {"Authorization": f"Bearer {token}"}


def assert_clean_error(response: Any, status: int) -> dict[str, Any]:
    """The response is ``{error, detail}`` with ``status``, one line and no trace."""
    assert status == response.status_code, response.text
    body: dict[str, Any] = response.json()
    assert ["detail", "error"] == sorted(body)
    assert "Traceback" not in response.text
    assert 1 == len(body["detail"].splitlines())
    return body
