"""agents/facts/credentials.py: the set a credential belongs to and what it is."""

from __future__ import annotations

import pytest

from agents.facts.credentials import (
    API_KEY,
    CERTIFICATE,
    CLOUD_KEY,
    DB_PASSWORD,
    DB_SUPERUSER,
    PASSWORD,
    REGISTRY,
    SIGNING_KEY,
    SSH_KEY,
    TLS_KEY,
    CredentialKind,
    credential_set,
    kind_of,
)


@pytest.mark.parametrize(("name", "group"), [
    ("MYSQL_ROOT_PASSWORD", "MYSQL"), ("MYSQL_PASSWORD", "MYSQL"), ("DB_USER", "DB"),
    ("DB_ROOT_PASSWORD", "DB"), ("GF_SECURITY_ADMIN_PASSWORD", "GF_SECURITY"),
    ("GF_SECURITY_ADMIN_USER", "GF_SECURITY"), ("SPRING_DATASOURCE_PASSWORD",
                                                "SPRING_DATASOURCE"),
    ("ACCESS_KEY", "ACCESS_KEY"), ("password", "PASSWORD"), ("stripe-api-key", "STRIPE"),
])
def test_credential_set(name: str, group: str) -> None:
    """A store named first is the set; else the name without its credential words."""
    assert group == credential_set(name)


@pytest.mark.parametrize(("name", "shape", "extra", "kind"), [
    ("jwt-signing-key.pem", "private key", {}, SIGNING_KEY),
    ("JWT_SECRET", "token", {}, SIGNING_KEY),
    ("SECRET_KEY_BASE", "password", {}, SIGNING_KEY),
    ("tls.key", "private key", {"secret_type": "kubernetes.io/tls"}, TLS_KEY),
    ("tls.crt", "certificate", {"secret_type": "kubernetes.io/tls"}, CERTIFICATE),
    ("id_rsa", "private key", {}, SSH_KEY),
    (".dockerconfigjson", "registry auth", {}, REGISTRY),
    ("key", "token", {"reason": "AWS access key id"}, CLOUD_KEY),
    ("MYSQL_ROOT_PASSWORD", "password", {}, DB_SUPERUSER),
    ("DB_PASSWORD", "password", {}, DB_PASSWORD),
    ("password", "password", {"store": True, "superuser": True}, DB_SUPERUSER),
    ("STRIPE_API_KEY", "token", {}, API_KEY),
    ("ADMIN_PASSWORD", "password", {}, PASSWORD),
])
def test_kind_of(name: str, shape: str, extra: dict[str, object],
                 kind: CredentialKind) -> None:
    """What a credential is follows from its name, shape, type and consumer."""
    assert kind == kind_of(name, shape, **extra)  # type: ignore[arg-type]


def test_signing_keys_are_cluster_impact_and_certificates_hygiene() -> None:
    """Losing a signing key mints any login (5); a certificate is public (1)."""
    assert (5, 1) == (SIGNING_KEY.impact, CERTIFICATE.impact)
