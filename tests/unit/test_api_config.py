"""The HTTP service's settings from the environment: session lifetime."""

from __future__ import annotations

import pytest

from workflow.api.config import load_api_settings
from workflow.domain.errors import ConfigError


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset, a session lasts 12 hours."""
    monkeypatch.delenv("KTMB_SESSION_HOURS", raising=False)
    assert 12.0 == load_api_settings().session_hours


def test_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lifetime is read in hours, fractions allowed."""
    monkeypatch.setenv("KTMB_SESSION_HOURS", "0.5")
    assert 0.5 == load_api_settings().session_hours


@pytest.mark.parametrize(("name", "value", "needle"), [
    ("KTMB_SESSION_HOURS", "forever", "KTMB_SESSION_HOURS must be a number"),
    ("KTMB_SESSION_HOURS", "0", "KTMB_SESSION_HOURS must be between"),
])
def test_bad_values_are_one_line_errors(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                        needle: str) -> None:
    """A bad value is a ConfigError naming the setting."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_api_settings()
    assert needle in str(caught.value)
