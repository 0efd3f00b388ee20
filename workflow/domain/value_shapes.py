"""What a value looks like, decided at redaction so that later code never needs the value.

A finding about a Secret names what it holds (a private key, a token, a well-known default) from
the shape recorded when the value was redacted; a value whose shape is not a secret's (a number
of seconds, a duration, a boolean, a URL without credentials) is not redacted at all.
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = ["NOT_SECRET_SHAPES", "not_a_secret", "secret_shape", "value_shape"]

#: Shapes of values that are not secrets whatever their name (numbers only under names that
#: are not password-like; see :func:`value_shape`).
NOT_SECRET_SHAPES = frozenset({"number", "duration", "boolean", "url"})
_PASSWORD_NAME = re.compile(r"(?i)pass|pwd|pin(?![a-z])")
_DURATION = re.compile(r"(?i)^\d+(\.\d+)?\s*(ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hours?"
                       r"|d|days?|w|weeks?)$|^(\d+[smhd])+$|^P(T?\d+[YMWDHS])+$")
_BOOLEAN = frozenset({"true", "false", "yes", "no", "on", "off", "enabled", "disabled"})
_URL = re.compile(r"(?i)^[a-z][a-z0-9+.-]*://[^\s@]+$")
#: Well-known default and placeholder passwords (compared case-insensitively).
_DEFAULT_VALUES = frozenset({
    "admin", "administrator", "password", "passw0rd", "p@ssw0rd", "password1", "password123",
    "changeme", "change-me", "change_me", "changeit", "secret", "root", "toor", "guest", "test",
    "testing", "demo", "default", "example", "letmein", "welcome", "qwerty", "123456",
    "12345678", "1234", "0000", "postgres", "mysql", "minioadmin", "admin123", "pass", "user",
    "fake_password", "fakepassword", "dummy", "sample", "insecure", "notsecure", "todo",
    "replaceme", "replace-me", "your-password", "yourpassword", "mypassword", "supersecret",
    "s3cr3t", "secret123"})
_TOKEN = re.compile(r"^[A-Za-z0-9+/=_.~-]{20,}$")


def value_shape(value: str) -> str:
    """What a value looks like, decided here so that later code never needs the value.

    One of: ``private key``, ``certificate``, ``json web token``, ``url with credentials``,
    ``registry auth``, ``default`` (a well-known default or placeholder), ``number``,
    ``duration``, ``boolean``, ``url``, ``token`` (a long opaque string) or ``password``.
    """
    text = value.strip()
    if "PRIVATE KEY-----" in text:
        return "private key"
    if "BEGIN CERTIFICATE" in text:
        return "certificate"
    if re.fullmatch(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", text):
        return "json web token"
    if re.match(r"(?i)^[a-z][a-z0-9+.-]*://[^/\s@]*:[^/\s@]*@", text):
        return "url with credentials"
    if _URL.match(text):
        return "url"
    if '"auths"' in text or "'auths'" in text:
        return "registry auth"
    lower = text.lower()
    if lower in _DEFAULT_VALUES:
        return "default"
    if lower in _BOOLEAN:
        return "boolean"
    if re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
        return "number"
    if _DURATION.match(text):
        return "duration"
    return "token" if _TOKEN.match(text) else "password"


def secret_shape(raw: str, encoded: bool) -> str:
    """The shape of a Secret value (``data`` values are base64 and decoded first)."""
    if encoded:
        try:
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return "binary"
    return value_shape(raw)


def not_a_secret(name: str, value: str) -> bool:
    """A value that cannot be a secret whatever its name (numbers only for non-passwords)."""
    shape = value_shape(value)
    return shape in NOT_SECRET_SHAPES and not (shape == "number" and _PASSWORD_NAME.search(name))
