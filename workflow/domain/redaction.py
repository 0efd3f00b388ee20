"""Secret redaction at load time.

Secret values never leave this module: what remains is that a value existed, where, why it was
taken for a secret, its shape (:func:`value_shape`: a private key, a token, a well-known default,
...) and a keyed, non-reversible fingerprint (HMAC-SHA256 with a per-installation key,
truncated), so two runs of the same input produce the same fingerprints and nobody can test
guesses without the key. A value whose shape is not a secret's (a number of seconds, a duration,
a boolean, a URL without credentials) is left in place even under a credential-like name; a
number stays a secret only under a password-like name (a numeric PIN).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "MARKER_PREFIX",
    "NOT_SECRET_SHAPES",
    "Redactor",
    "is_credential_name",
    "load_or_create_key",
    "value_shape",
]

MARKER_PREFIX = "«redacted"

_CREDENTIAL_NAME = re.compile(
    r"(?i)(pass(word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|client[_-]?key|signing[_-]?key|encryption[_-]?key|(^|[_.-])key$|key[_-]?content"
    r"|credential|auth"
    r"|bearer|session[_-]?key|dsn|connection[_-]?string)")
_NOT_CREDENTIAL_NAME = re.compile(
    r"(?i)([_.-](file|path|dir|url|uri|name|ref|id|enabled|mode|type|method|header|endpoint"
    r"|host|port|ttl|timeout|expiry|length|size|format|plugin|provider|mount|location)$"
    r"|^(keys?|token_type)$)")


def _looks_like_reference(value: str) -> bool:
    """Paths, variable expansions and template references are not credential values."""
    return value.startswith(("/", "./", "$(", "${", "{{", "file:", "env:"))

#: Value patterns that are secrets wherever they appear (the group to blank out is group 1 or
#: the whole match).
_VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private key", re.compile(
        r"-{3,5}BEGIN [A-Z0-9 ]*PRIVATE KEY-{3,5}[\s\S]*?"
        r"(?:-{3,5}END [A-Z0-9 ]*PRIVATE KEY-{3,5}|\Z)")),
    ("AWS access key id", re.compile(r"\b((?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16})\b")),
    ("AWS secret access key", re.compile(
        r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+=]{40})")),
    ("GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,255})\b")),
    ("Slack token", re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]{10,})\b")),
    ("Google API key", re.compile(r"\b(AIza[0-9A-Za-z_\-]{35})\b")),
    ("Stripe key", re.compile(r"\b((?:sk|rk)_live_[0-9A-Za-z]{16,})\b")),
    ("JSON web token", re.compile(
        r"\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})\b")),
    ("credentials in a URL", re.compile(
        r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@\"']+:([^\s@/\"']+)@")),
    ("password assignment", re.compile(
        r"(?i)\b(?:password|passwd|pwd|secret|token|api[_-]?key)\b[\"']?\s*[:=]\s*[\"']?"
        r"([^\s\"',;&]{3,})")),
    ("prefixed password assignment", re.compile(
        r"(?i)(?<![A-Za-z0-9])(?:[A-Za-z0-9]+[_.-])+(?:password|passwd|pwd|pass|secret|token"
        r"|api[_-]?key)\b[\"']?\s*[:=]\s*[\"']?([^\s\"',;&$]{3,})")),
    ("bearer token", re.compile(r"(?i)\bbearer\s+([A-Za-z0-9._~+/-]{16,}=*)")),
)


#: A substring every value pattern needs: text without one cannot match any of them, so the
#: patterns only run on the few values that have one.
_VALUE_TRIGGER = re.compile(
    r"PRIVATE KEY|AKIA|ASIA|ABIA|ACCA|gh[pousr]_|xox[abposr]-|AIza|_live_|eyJ|://\S*@"
    r"|(?i:passw|pwd|_pass|secret|token|api[_-]?key|bearer)")


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


def _secret_shape(raw: str, encoded: bool) -> str:
    """The shape of a Secret value (``data`` values are base64 and decoded first)."""
    if encoded:
        try:
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return "binary"
    return value_shape(raw)


def _not_a_secret(name: str, value: str) -> bool:
    """A value that cannot be a secret whatever its name (numbers only for non-passwords)."""
    shape = value_shape(value)
    return shape in NOT_SECRET_SHAPES and not (shape == "number" and _PASSWORD_NAME.search(name))


def is_credential_name(name: str) -> bool:
    """True when a variable or key name suggests it holds a credential."""
    return bool(_CREDENTIAL_NAME.search(name)) and not _NOT_CREDENTIAL_NAME.search(name)


def load_or_create_key(home: Path, configured: str | None) -> bytes:
    """The fingerprint key: ``KTMB_REDACTION_KEY`` or a key file created in ``home``."""
    if configured:
        return configured.encode()
    path = home / "redaction.key"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        home.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key)
        finally:
            os.close(fd)
        return key
    except FileExistsError:  # pragma: no cover - another process won the race
        return path.read_bytes().strip()


@dataclass
class Found:
    """A redacted value: where (JSON pointer), why, its fingerprint and its shape."""

    path: str
    reason: str
    fingerprint: str
    shape: str = ""


@dataclass
class Redactor:
    """Replaces secret values with markers and keeps a record of what it replaced."""

    key: bytes
    found: list[Found] = field(default_factory=list)

    def fingerprint(self, value: str) -> str:
        """A keyed, non-reversible fingerprint of a value."""
        return "hmac-sha256:" + hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()[:16]

    def marker(self, value: str, reason: str, path: str, shape: str | None = None) -> str:
        """The marker that replaces ``value``; records the redaction and the value's shape."""
        fp = self.fingerprint(value)
        self.found.append(Found(path=path, reason=reason, fingerprint=fp,
                                shape=shape if shape is not None else value_shape(value)))
        return f"{MARKER_PREFIX}:{fp}»"

    def scrub_text(self, text: str, path: str) -> str:
        """Replace every secret-looking substring of free text (values, notes, annotations)."""
        if not _may_hold_secret(text):
            return text
        out = text
        for reason, pattern in _VALUE_PATTERNS:
            out = pattern.sub(self._replacer(reason, path), out)
        return out

    def _replacer(self, reason: str, path: str) -> Callable[[re.Match[str]], str]:
        def replace(match: re.Match[str]) -> str:
            if MARKER_PREFIX in match.group(0):
                return match.group(0)
            if match.lastindex:
                if reason.endswith("assignment") and (
                        _not_a_secret(match.group(0), match.group(1))
                        or _looks_like_reference(match.group(1))):
                    return match.group(0)
                start, end = match.span(1)
                base = match.start(0)
                whole = match.group(0)
                return (whole[: start - base] + self.marker(match.group(1), reason, path)
                        + whole[end - base:])
            return self.marker(match.group(0), reason, path)

        return replace

    # ---- Kubernetes objects ----------------------------------------------------------------
    def redact_object(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Redact a Kubernetes object in place and return it."""
        kind = obj.get("kind")
        if kind == "Secret":
            for field_name in ("data", "stringData"):
                values = obj.get(field_name)
                if isinstance(values, dict):
                    for key in list(values):
                        raw = values[key]
                        if raw is None or raw == "":
                            continue
                        values[key] = self.marker(
                            str(raw), "Secret value", f"/{field_name}/{_escape(str(key))}",
                            shape=_secret_shape(str(raw), encoded=field_name == "data"))
        if kind == "ConfigMap":
            for field_name in ("data", "binaryData"):
                values = obj.get(field_name)
                if isinstance(values, dict):
                    for key in list(values):
                        raw = _numeric_as_text(values[key])
                        ptr = f"/{field_name}/{_escape(str(key))}"
                        if isinstance(raw, str) and raw and is_credential_name(str(key)) \
                                and not _not_a_secret(str(key), raw):
                            values[key] = self.marker(raw, f"ConfigMap key {key!r}", ptr)
        metadata = obj.get("metadata")
        if isinstance(metadata, dict):
            annotations = metadata.get("annotations")
            if isinstance(annotations, dict):
                key = "kubectl.kubernetes.io/last-applied-configuration"
                if kind == "Secret" and isinstance(annotations.get(key), str):
                    annotations[key] = self.marker(annotations[key], "applied Secret",
                                                   "/metadata/annotations/" + _escape(key))
        self._walk(obj, "")
        return obj

    def _walk(self, node: Any, path: str) -> Any:
        """Redact env literals, credential-looking args and secret-looking substrings."""
        stack: list[tuple[Any, str]] = [(node, path)]
        while stack:
            current, here = stack.pop()
            if isinstance(current, dict):
                self._redact_container_fields(current, here)
                for key, value in current.items():  # a pointer is built only when needed
                    if isinstance(value, str):
                        if (MARKER_PREFIX not in value or len(value) > 40) \
                                and _may_hold_secret(value):
                            current[key] = self.scrub_text(value, f"{here}/{_escape(str(key))}")
                    elif isinstance(value, dict | list):
                        stack.append((value, f"{here}/{_escape(str(key))}"))
            elif isinstance(current, list):
                for index, value in enumerate(current):
                    if isinstance(value, str):
                        if _may_hold_secret(value):
                            current[index] = self.scrub_text(value, f"{here}/{index}")
                    elif isinstance(value, dict | list):
                        stack.append((value, f"{here}/{index}"))
        return node

    def _redact_container_fields(self, mapping: dict[str, Any], path: str) -> None:
        """A container's env literals and credential-looking args and command words."""
        env = mapping.get("env")
        if isinstance(env, list):
            self._redact_env(env, path + "/env")
        for arg_field in ("args", "command"):
            items = mapping.get(arg_field)
            if isinstance(items, list):
                self._redact_args(items, f"{path}/{arg_field}")

    def _redact_env(self, env: list[Any], path: str) -> None:
        for index, item in enumerate(env):
            if not isinstance(item, dict):
                continue
            name, value = str(item.get("name", "")), _numeric_as_text(item.get("value"))
            if isinstance(value, str) and value and MARKER_PREFIX not in value \
                    and is_credential_name(name) and not _looks_like_reference(value) \
                    and not _not_a_secret(name, value):
                item["value"] = self.marker(value, f"env var {name!r}", f"{path}/{index}/value")

    def _redact_args(self, items: list[Any], path: str) -> None:
        take_next = False
        for index, item in enumerate(items):
            if not isinstance(item, str):
                take_next = False
                continue
            ptr = f"{path}/{index}"
            if take_next and item and not item.startswith("-") \
                    and not _looks_like_reference(item):
                items[index] = self.marker(item, "command-line credential", ptr)
                take_next = False
                continue
            take_next = False
            flag, sep, value = item.partition("=")
            if flag.startswith("-") and is_credential_name(flag.lstrip("-")):
                if sep and value and not _looks_like_reference(value):
                    items[index] = flag + "=" + self.marker(value, "command-line credential", ptr)
                elif not sep:
                    take_next = True


def _may_hold_secret(text: str) -> bool:
    """Whether free text can hold a secret-looking substring at all (cheap checks first)."""
    if len(text) < 8 and "=" not in text and ":" not in text:
        return False
    return _VALUE_TRIGGER.search(text) is not None


def _numeric_as_text(value: Any) -> Any:
    """Unquoted numbers (a PIN, a numeric password) are redacted like strings."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
