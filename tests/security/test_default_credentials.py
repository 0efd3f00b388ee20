"""Probes: default and demo credentials shipped with an application are recognised (issue 18)."""

from __future__ import annotations

from pathlib import Path

from tests.security.scan_probes import by_rule, dumped, scan_text


def test_documented_default_password_is_recognised(tmp_path: Path) -> None:
    """Grafana's admin/admin shipped in the manifest is a default credential, value unshown."""
    text = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: grafana, namespace: monitoring}
spec:
  selector: {matchLabels: {app: grafana}}
  template:
    metadata: {labels: {app: grafana}}
    spec:
      containers:
      - name: grafana
        image: grafana/grafana:10.4.2
        env:
        - {name: GF_SECURITY_ADMIN_USER, value: admin}
        - {name: GF_SECURITY_ADMIN_PASSWORD, value: admin}
"""
    model = scan_text(tmp_path, text)
    found = by_rule(model, "data.default-credential")
    assert ["data.default-credential@Deployment/monitoring/grafana#GF_SECURITY"] == [
        f.id for f in found]


def test_demo_users_enabled_is_recognised(tmp_path: Path) -> None:
    """A setting that turns on the demo users or pre-fills the login page is reported."""
    text = """
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: shop}
data:
  DEMO_USERS_ENABLED: "true"
  LOGIN_PREFILL: "true"
"""
    model = scan_text(tmp_path, text)
    assert ["data.default-credential@ConfigMap/shop/app-config#DEMO_USERS_ENABLED",
            "data.default-credential@ConfigMap/shop/app-config#LOGIN_PREFILL"] == sorted(
        f.id for f in by_rule(model, "data.default-credential"))


def test_default_credential_value_never_reaches_the_model(tmp_path: Path) -> None:
    """The finding says the value is a well-known default without showing it."""
    text = """
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
stringData: {MYSQL_ROOT_PASSWORD: changeme}
"""
    model = scan_text(tmp_path, text)
    assert [1] == [len(by_rule(model, "data.default-credential"))]
    assert "changeme" not in dumped(model)
