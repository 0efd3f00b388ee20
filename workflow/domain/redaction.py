"""Secret redaction at load time.

Secret values never leave this module: what remains is that a value existed, where, why it was
taken for a secret, its shape (:func:`workflow.domain.value_shapes.value_shape`: a private key,
a token, a well-known default, ...) and a keyed, non-reversible fingerprint (HMAC-SHA256 with a
per-installation key, truncated), so two runs of the same input produce the same fingerprints
and nobody can test guesses without the key.

What is redacted in a Kubernetes object: Secret ``data``/``stringData`` and the applied
configuration of a Secret; by name, literal env values, ConfigMap keys, annotations and labels
whose names are credential names; the credentials on command lines (``command``/``args``
words); and in every string value (scripts, config files, annotations) what
:mod:`workflow.domain.secret_text` finds. Notes are scanned as prose.

A value whose shape is not a secret's (a number of seconds, a duration, a boolean, a URL without
credentials) is left in place even under a credential-like name; a number stays a secret only
under a password-like name (a numeric PIN).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow.domain.command_lines import words_secrets
from workflow.domain.credential_names import (
    is_boolean,
    is_credential_name,
    is_reference,
    is_secret_object_name,
    is_setting,
    names_the_credential,
)
from workflow.domain.secret_text import MARKER_PREFIX, find_secrets, may_hold_secret
from workflow.domain.value_shapes import not_a_secret, secret_shape, value_shape

__all__ = [
    "MARKER_PREFIX",
    "Redactor",
    "load_or_create_key",
]

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_NAMED_FIELDS = frozenset({"env", "command", "args", "annotations", "labels"})


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

    def scrub_text(self, text: str, path: str, *, prose: bool = False) -> str:
        """Replace every secret in free text (a value, a script, a config file, notes).

        Args:
            text: the text.
            path: where it is (JSON pointer or file), for the record.
            prose: the text is notes (see :func:`workflow.domain.secret_text.find_secrets`).
        """
        if not prose and not may_hold_secret(text):
            return text
        hits = find_secrets(text, prose=prose)
        if not hits:
            return text
        parts: list[str] = []
        last = 0
        for hit in hits:
            parts += [text[last:hit.start], self.marker(text[hit.start:hit.end], hit.reason, path)]
            last = hit.end
        parts.append(text[last:])
        return "".join(parts)

    # ---- Kubernetes objects ----------------------------------------------------------------
    def redact_object(self, obj: dict[str, Any], path: str = "") -> dict[str, Any]:
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
                            str(raw), "Secret value", f"{path}/{field_name}/{_escape(str(key))}",
                            shape=secret_shape(str(raw), encoded=field_name == "data"))
        if kind == "ConfigMap":
            for field_name in ("data", "binaryData"):
                values = obj.get(field_name)
                if isinstance(values, dict):
                    for key in list(values):
                        raw = _numeric_as_text(values[key])
                        ptr = f"{path}/{field_name}/{_escape(str(key))}"
                        if isinstance(raw, str) and raw and is_credential_name(str(key)) \
                                and not not_a_secret(str(key), raw):
                            values[key] = self.marker(raw, f"ConfigMap key {key!r}", ptr)
        metadata = obj.get("metadata")
        annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
        if isinstance(annotations, dict) and isinstance(annotations.get(_LAST_APPLIED), str):
            ptr = f"{path}/metadata/annotations/{_escape(_LAST_APPLIED)}"
            annotations[_LAST_APPLIED] = self._redact_applied(
                annotations[_LAST_APPLIED], ptr, secret=kind == "Secret")
        self._walk(obj, path)
        return obj

    def _redact_applied(self, text: str, path: str, *, secret: bool) -> str:
        """The applied configuration: a Secret's whole, another object's as that object."""
        if secret:
            return self.marker(text, "applied Secret", path)
        try:
            applied = json.loads(text)
        except ValueError:
            return self.scrub_text(text, path)
        if not isinstance(applied, dict):
            return self.scrub_text(text, path)
        before = len(self.found)
        self.redact_object(applied, path)
        return text if len(self.found) == before else json.dumps(applied, separators=(",", ":"))

    def _walk(self, node: Any, path: str) -> Any:
        """Redact by name (env, args, annotations, labels), then secrets in every string."""
        stack: list[tuple[Any, str]] = [(node, path)]
        while stack:
            current, here = stack.pop()
            if isinstance(current, dict):
                self._redact_named_fields(current, here)
                for key, value in current.items():  # a pointer is built only when needed
                    if isinstance(value, str):
                        if key != _LAST_APPLIED and _worth_scanning(value):
                            current[key] = self.scrub_text(value, f"{here}/{_escape(str(key))}")
                    elif isinstance(value, dict | list):
                        stack.append((value, f"{here}/{_escape(str(key))}"))
            elif isinstance(current, list):
                for index, value in enumerate(current):
                    if isinstance(value, str):
                        if _worth_scanning(value):
                            current[index] = self.scrub_text(value, f"{here}/{index}")
                    elif isinstance(value, dict | list):
                        stack.append((value, f"{here}/{index}"))
        return node

    def _redact_named_fields(self, mapping: dict[str, Any], path: str) -> None:
        """Env literals, command-line credentials, annotations and labels, by name."""
        if _NAMED_FIELDS.isdisjoint(mapping):
            return
        env = mapping.get("env")
        if isinstance(env, list):
            self._redact_env(env, path + "/env")
        words = {f: items for f in ("command", "args")
                 if isinstance(items := mapping.get(f), list)}
        if words:
            self._redact_words(words, path)
        for field_name in ("annotations", "labels"):
            values = mapping.get(field_name)
            if isinstance(values, dict) and values:
                self._redact_by_key(values, f"{path}/{field_name}", field_name[:-1])

    def _redact_env(self, env: list[Any], path: str) -> None:
        for index, item in enumerate(env):
            if not isinstance(item, dict):
                continue
            name, value = str(item.get("name", "")), _numeric_as_text(item.get("value"))
            if isinstance(value, str) and value and MARKER_PREFIX not in value \
                    and is_credential_name(name) and not is_reference(value) \
                    and not not_a_secret(name, value):
                item["value"] = self.marker(value, f"env var {name!r}", f"{path}/{index}/value")

    def _redact_words(self, lists: dict[str, list[Any]], path: str) -> None:
        """Credentials among a container's (or a probe's) command and args words.

        A credential inside a script word (``sh -c``) is left to the scan of that word as text.
        """
        places = [(f, i) for f, items in lists.items() for i, w in enumerate(items)
                  if isinstance(w, str)]
        words = [lists[f][i] for f, i in places]
        for found in words_secrets(words):
            field_name, index = places[found.word]
            item = lists[field_name][index]
            if MARKER_PREFIX in item or not item.endswith(found.value):
                continue
            lists[field_name][index] = item[:-len(found.value)] + self.marker(
                found.value, found.reason, f"{path}/{field_name}/{index}")

    def _redact_by_key(self, values: dict[str, Any], path: str, what: str) -> None:
        """Annotations and labels whose names are credential names (``*/db-password``)."""
        for key in list(values):
            value = _numeric_as_text(values[key])
            name = str(key).rsplit("/", 1)[-1]
            if (key == _LAST_APPLIED or not isinstance(value, str) or not value
                    or MARKER_PREFIX in value or not is_credential_name(name)):
                continue
            if is_reference(value) or "://" in value or is_boolean(value) \
                    or (is_setting(value) and not names_the_credential(name)) \
                    or is_secret_object_name(name, value):
                continue
            if any(c.isspace() for c in value.strip()) and not names_the_credential(name):
                continue  # text about a credential: scanned as text by _walk
            values[key] = self.marker(value, f"{what} {key!r}", f"{path}/{_escape(str(key))}")


def _worth_scanning(value: str) -> bool:
    """A short value that already holds a marker is done; anything else gets the cheap check."""
    return (MARKER_PREFIX not in value or len(value) > 40) and may_hold_secret(value)


def _numeric_as_text(value: Any) -> Any:
    """Unquoted numbers (a PIN, a numeric password) are redacted like strings."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
