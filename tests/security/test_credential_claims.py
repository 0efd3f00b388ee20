"""Probes: a credential is rated by what it is, once per credential set (issue 18)."""

from __future__ import annotations

from pathlib import Path

from tests.security.scan_probes import by_rule, dumped, scan_text
from workflow.domain.threat_model import Severity

KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" + "x" * 200
SIGNING_SECRET = f"""
apiVersion: v1
kind: Secret
metadata: {{name: auth-keys, namespace: login}}
type: Opaque
stringData:
  jwt-signing-key.pem: |
    -----BEGIN PRIVATE KEY-----
    {KEY_BODY}
    -----END PRIVATE KEY-----
"""

DB_CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata: {name: db-settings, namespace: shop}
data:
  POSTGRES_USER: postgres
  POSTGRES_PASSWORD: Zr8q2LkM9vXw
  POSTGRES_REPLICATION_PASSWORD: Qp3nT7yH2sKd
  POSTGRES_HOST: orders-db
"""


def test_token_signing_key_in_a_secret_is_critical(tmp_path: Path) -> None:
    """A committed token-signing private key is critical and named as such, never shown."""
    model = scan_text(tmp_path, SIGNING_SECRET)
    found = by_rule(model, "data.secret-in-manifest")
    assert 1 == len(found)
    assert Severity.CRITICAL == found[0].severity
    assert "token-signing key" in found[0].title
    assert KEY_BODY[:40] not in dumped(model)


def test_database_superuser_passwords_in_a_configmap_are_one_high_finding(
        tmp_path: Path) -> None:
    """The password keys of one data store in one ConfigMap are one finding, at least high."""
    model = scan_text(tmp_path, DB_CONFIGMAP)
    found = by_rule(model, "data.configmap-credential")
    assert 1 == len(found)
    assert found[0].severity in {Severity.HIGH, Severity.CRITICAL}
    assert "POSTGRES_PASSWORD" in found[0].title
    assert "POSTGRES_REPLICATION_PASSWORD" in found[0].title
    assert "Zr8q2LkM9vXw" not in dumped(model)
