"""Probes: the classes of error and gap that peer scanners' suites show (issue 18)."""

from __future__ import annotations

from pathlib import Path

from tests.security.scan_probes import by_rule, scan_text

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata:
      labels: {{app: {name}}}
      annotations: {annotations}
    spec:
      serviceAccountName: {name}
      containers: [{{name: main, image: "{image}", ports: [{{containerPort: {port}}}]}}]
"""


def _app(name: str = "api", ns: str = "shop", image: str = "example/api:1.0",
         port: int = 8080, annotations: str = "{}") -> str:
    return APP.format(name=name, ns=ns, image=image, port=port, annotations=annotations)


def test_malformed_digest_does_not_count_as_pinned(tmp_path: Path) -> None:
    """image@sha256:abc is not a digest; the image is not pinned."""
    model = scan_text(tmp_path, _app(image="example/api:1.0@sha256:abc"))
    assert ["controls.image-not-pinned@Deployment/shop/api#main"] == [
        f.id for f in by_rule(model, "controls.image-not-pinned")]


def test_seccomp_annotation_with_a_non_profile_value_is_no_profile(tmp_path: Path) -> None:
    """The deprecated seccomp annotation counts only with a profile value."""
    notes = '{"seccomp.security.alpha.kubernetes.io/pod": "enabled"}'
    model = scan_text(tmp_path, _app(annotations=notes))
    assert ["controls.seccomp-profile@Deployment/shop/api#main"] == [
        f.id for f in by_rule(model, "controls.seccomp-profile")]


def test_exposed_argo_workflows_server_is_an_admin_interface(tmp_path: Path) -> None:
    """The Argo Workflows server behind a LoadBalancer is an exposed admin interface."""
    text = _app(name="argo-server", ns="argo", image="quay.io/argoproj/argocli:v3.5.5",
                port=2746) + """
---
apiVersion: v1
kind: Service
metadata: {name: argo-server, namespace: argo}
spec:
  type: LoadBalancer
  selector: {app: argo-server}
  ports: [{port: 2746, targetPort: 2746}]
"""
    model = scan_text(tmp_path, text)
    assert ["architecture.exposed-admin-interface@Deployment/argo/argo-server"] == [
        f.id for f in by_rule(model, "architecture.exposed-admin-interface")]


def test_ingress_nginx_global_snippet_setting_is_reported(tmp_path: Path) -> None:
    """allow-snippet-annotations: "true" in the controller ConfigMap opens every Ingress."""
    text = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
  labels: {app.kubernetes.io/name: ingress-nginx}
data:
  allow-snippet-annotations: "true"
"""
    model = scan_text(tmp_path, text)
    assert ["architecture.ingress-snippet-annotation@ConfigMap/ingress-nginx/"
            "ingress-nginx-controller"] == [
        f.id for f in by_rule(model, "architecture.ingress-snippet-annotation")]


def test_application_workload_in_kube_system_is_reported(tmp_path: Path) -> None:
    """An application's data store deployed into kube-system is reported."""
    model = scan_text(tmp_path, _app(name="elasticsearch", ns="kube-system",
                                     image="elasticsearch:8.13.0", port=9200))
    assert ["controls.kube-system-workload@Deployment/kube-system/elasticsearch"] == [
        f.id for f in by_rule(model, "controls.kube-system-workload")]
