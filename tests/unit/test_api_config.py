"""The HTTP service's settings from the environment: session lifetime and request size cap."""

from __future__ import annotations

import pytest

from workflow.api.config import load_api_settings
from workflow.domain.errors import ConfigError


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset, a session lasts 12 hours and a request body may be 64 MiB."""
    monkeypatch.delenv("KTMB_SESSION_HOURS", raising=False)
    monkeypatch.delenv("KTMB_MAX_REQUEST_BYTES", raising=False)
    api = load_api_settings()
    assert (12.0, 64 * 1024 * 1024) == (api.session_hours, api.max_request_bytes)


def test_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both settings are read, with underscores allowed in the byte count."""
    monkeypatch.setenv("KTMB_SESSION_HOURS", "0.5")
    monkeypatch.setenv("KTMB_MAX_REQUEST_BYTES", "8_388_608")
    api = load_api_settings()
    assert (0.5, 8_388_608) == (api.session_hours, api.max_request_bytes)


@pytest.mark.parametrize(("name", "value", "needle"), [
    ("KTMB_SESSION_HOURS", "forever", "KTMB_SESSION_HOURS must be a number"),
    ("KTMB_SESSION_HOURS", "0", "KTMB_SESSION_HOURS must be between"),
    ("KTMB_MAX_REQUEST_BYTES", "1.5", "KTMB_MAX_REQUEST_BYTES must be a whole number"),
    ("KTMB_MAX_REQUEST_BYTES", "100", "KTMB_MAX_REQUEST_BYTES must be between 4096"),
])
def test_bad_values_are_one_line_errors(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                        needle: str) -> None:
    """A bad value is a ConfigError naming the setting."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_api_settings()
    assert needle in str(caught.value)
