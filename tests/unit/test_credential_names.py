"""Credential names, and the values that are settings or references rather than secrets."""

from __future__ import annotations

import pytest

from workflow.domain.credential_names import (
    is_credential_name,
    is_reference,
    is_secret_object_name,
    is_setting,
    looks_like_a_secret_word,
    names_the_credential,
)


@pytest.mark.parametrize(("name", "expected"), [
    ("DB_PASSWORD", True), ("API_TOKEN", True), ("CLIENT_SECRET", True), ("AWS_ACCESS_KEY", True),
    ("signing_key", True), ("LOG_LEVEL", False), ("KEY_FILE", False), ("secret-name", False),
    ("TOKEN_PATH", False), ("PASSWORD_FILE", False), ("keys", False), ("MONKEY", False),
    ("apiKey", True), ("rootPassword", True), ("secretName", False), ("passwordSecretRef", False),
    ("tokenTTL", False), ("db-password", True), ("client-secret", True), ("auth-type", False),
    ("kubelet-certificate-authority", False), ("author", False), ("authorization-mode", False),
])
def test_credential_names(name: str, expected: bool) -> None:
    """Names are classified as credentials or not (camelCase words count as words)."""
    assert expected == is_credential_name(name)


@pytest.mark.parametrize(("name", "expected"), [
    ("password", True), ("DB_PASSWORD", True), ("--api-key", True), ("token", True),
    ("token-max-age", False), ("enable-token-auth", False), ("password-rotation", False),
])
def test_names_that_end_with_the_credential(name: str, expected: bool) -> None:
    """Only a name that ends with the credential makes a number or duration a secret."""
    assert expected == names_the_credential(name)


@pytest.mark.parametrize(("value", "expected"), [
    ("true", True), ("Off", True), ("enabled", True), ("30s", True), ("1h30m", True),
    ("8080", True), ("0.5", True), ("256Mi", True), ("500m", True),
    ("hunter2", False), ("S3cret-30s", False), ("basic-auth", False),
])
def test_settings(value: str, expected: bool) -> None:
    """Booleans, numbers, sizes and durations are settings."""
    assert expected == is_setting(value)


@pytest.mark.parametrize(("value", "expected"), [
    ("/etc/secret/pw", True), ("$(DB_PASSWORD)", True), ("${DB_PASSWORD}", True),
    ("$PGPASSWORD", True), ("{{ .Values.password }}", True), ("file:/run/pw", True),
    ("ca.crt", True), ("values.yaml", True), ("./key.pem", True),
    ("Sup3r-S3cret", False), ("admin", False),
])
def test_references(value: str, expected: bool) -> None:
    """Paths, file names, expansions and templates are references."""
    assert expected == is_reference(value)


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("nginx.ingress.kubernetes.io/auth-secret", "basic-auth", True),
    ("nginx.ingress.kubernetes.io/auth-tls-secret", "ingress/ca-cert", True),
    ("example.com/client-secret", "AnnClientSecret-H4vNq8", False),
    ("example.com/client-secret", "9f8e7d6c5b4a39281706f5e4d3c2b1a0", False),
    ("example.com/db-password", "basic-auth", False),
])
def test_secret_object_names(key: str, value: str, expected: bool) -> None:
    """A key ending in "secret" with an object name as its value names a Secret object."""
    assert expected == is_secret_object_name(key, value)


@pytest.mark.parametrize(("value", "expected"), [
    ("hunter2", True), ("S3cret!", True), ("Ledger-Pw-3kq", True), ("aBcDeF", True),
    ("stored", False), ("Vault", False), ("rotated", False), ("15m", False),
    ("v1.2.3", False), ("https://x.example.com", False), ("/etc/pw", False), ("abc1", False),
])
def test_secret_words(value: str, expected: bool) -> None:
    """In prose, only a word that could be a password is taken for one."""
    assert expected == looks_like_a_secret_word(value)
