"""Probes: a public front door that serves plain HTTP to a login is reported (issue 18)."""

from __future__ import annotations

from pathlib import Path

from tests.security.scan_probes import by_rule, scan_text

WEB_APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: shop, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: shop}}}}
  template:
    metadata: {{labels: {{app: shop}}}}
    spec:
      containers:
      - name: web
        image: example/shop:2.1
        ports: [{{name: http, containerPort: 8080}}]
        env:
        - {{name: SESSION_STORE, value: redis}}
        readinessProbe:
          httpGet: {{path: /login, port: 8080}}
---
apiVersion: v1
kind: Service
metadata: {{name: shop, namespace: shop}}
spec:
  type: {service_type}
  selector: {{app: shop}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


def test_public_loadbalancer_serving_plain_http_to_a_login_app_is_reported(
        tmp_path: Path) -> None:
    """Port 80 of a public LoadBalancer to an HTTP port of an app with sessions and a login."""
    model = scan_text(tmp_path, WEB_APP.format(service_type="LoadBalancer"))
    found = by_rule(model, "architecture.front-door-without-tls")
    assert ["architecture.front-door-without-tls@Service/shop/shop"] == [f.id for f in found]


def test_nodeport_serving_plain_http_to_a_login_app_is_reported(tmp_path: Path) -> None:
    """The same front door on a NodePort is reported too."""
    model = scan_text(tmp_path, WEB_APP.format(service_type="NodePort"))
    assert ["architecture.front-door-without-tls@Service/shop/shop"] == [
        f.id for f in by_rule(model, "architecture.front-door-without-tls")]
