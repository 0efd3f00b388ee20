"""Probes: credentials are found by the shape of their value, and only real ones (issue 18)."""

from __future__ import annotations

from pathlib import Path

from tests.security.scan_probes import by_rule, loaded_text, scan_text

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: main, image: "example/api:1.0", args: ["--header", "HEADER"]}]
"""


def test_prefixed_assignments_inside_values_are_credentials(tmp_path: Path) -> None:
    """REDIS_PASSWORD=... and DB_PASSWORD: ... inside a value are found and redacted."""
    text = """
apiVersion: v1
kind: ConfigMap
metadata: {name: app-env, namespace: shop}
data:
  settings.env: |
    REDIS_HOST=cache
    REDIS_PASSWORD=Vx9tQ2mLp4Rs
  app.yaml: |
    database:
      DB_PASSWORD: Hq7wE3nZk8Yb
"""
    loaded = loaded_text(tmp_path, text)
    assert "Vx9tQ2mLp4Rs" not in loaded
    assert "Hq7wE3nZk8Yb" not in loaded
    assert by_rule(scan_text(tmp_path, text), "data.configmap-credential")


def test_opaque_bearer_token_is_a_credential(tmp_path: Path) -> None:
    """An Authorization: Bearer header with an opaque token in args is found and redacted."""
    token = "q8Zr4Kp2Wm7Xv5Ty3Ln9Hd6Bs1Fc0Ge"
    text = APP.replace("HEADER", f"Authorization: Bearer {token}")
    assert token not in loaded_text(tmp_path, text)
    assert by_rule(scan_text(tmp_path, text), "data.literal-credential")


def test_durations_numbers_booleans_and_plain_urls_are_not_credentials(tmp_path: Path) -> None:
    """A TOKEN-named env var holding seconds (or a flag, a URL) is not a literal credential."""
    text = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: example/api:1.0
        env:
        - {name: ACCESS_TOKEN_LIFETIME, value: "3600"}
        - {name: SESSION_TOKEN_MAX_AGE, value: "15m"}
        - {name: AUTH_REQUIRED, value: "true"}
        - {name: AUTH_SERVER, value: "https://login.example.com/oauth2"}
"""
    model = scan_text(tmp_path, text)
    assert [] == by_rule(model, "data.literal-credential")
