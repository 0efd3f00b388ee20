"""Probes: NetworkPolicies, Cilium's included, are judged by what they admit (issue 18)."""

from __future__ import annotations

from pathlib import Path

from tests.security.scan_probes import by_rule, scan_text
from workflow.domain.threat_model import Severity

POD = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      serviceAccountName: {sa}
      containers: [{{name: main, image: "example/{name}:1.0"}}]
"""


APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: main, image: "example/api:1.0", ports: [{containerPort: 8080}]}]
"""


def test_policy_opening_one_port_to_all_namespaces_admits_only_that_port(
        tmp_path: Path) -> None:
    """A metrics port opened to every namespace is not 'ingress from anywhere'."""
    text = POD.format(name="api", ns="shop", sa="default") + """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: metrics, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from: [{namespaceSelector: {}}]
    ports: [{port: 9090, protocol: TCP}]
"""
    model = scan_text(tmp_path, text)
    found = by_rule(model, "network.allow-all-ingress")
    assert 1 == len(found)
    assert "from anywhere" not in found[0].title
    assert "9090" in found[0].title
    assert found[0].severity in {Severity.LOW, Severity.INFO}


def test_cilium_network_policy_isolates_the_pods_it_selects(tmp_path: Path) -> None:
    """A CiliumNetworkPolicy with an ingress section puts its endpoints in default deny."""
    text = APP + """
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: api-ingress, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: api}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: web}}]
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
"""
    model = scan_text(tmp_path, text)
    assert [] == by_rule(model, "network.pod-not-isolated")


def test_cilium_clusterwide_default_deny_covers_every_namespace(tmp_path: Path) -> None:
    """A CiliumClusterwideNetworkPolicy selecting every endpoint is a default deny."""
    text = APP + """
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: default-deny}
spec:
  endpointSelector: {}
  ingress: [{}]
"""
    model = scan_text(tmp_path, text)
    assert [] == by_rule(model, "network.no-default-deny")
    assert [] == by_rule(model, "network.pod-not-isolated")


def test_namespace_declared_without_workloads_is_judged(tmp_path: Path) -> None:
    """A platform repository's bare Namespace is checked for PSA labels and default deny."""
    text = """
apiVersion: v1
kind: Namespace
metadata: {name: payments}
"""
    model = scan_text(tmp_path, text)
    assert ["controls.namespace-without-psa@Namespace/payments"] == [
        f.id for f in by_rule(model, "controls.namespace-without-psa")]
    assert ["network.no-default-deny@Namespace/payments"] == [
        f.id for f in by_rule(model, "network.no-default-deny")]
