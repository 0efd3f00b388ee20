"""The architecture view: components, entry points, trust boundaries, data flows, diagram."""

from __future__ import annotations

from pathlib import Path

from agents.architecture_view import build_architecture
from agents.facts.derived import Facts
from workflow.domain.inputs import load_inputs
from workflow.domain.inventory import Inventory
from workflow.domain.settings import Settings

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: example/web:1.0
        env:
        - {name: API, value: "http://api.shop.svc.cluster.local:8080/v1"}
        envFrom: [{configMapRef: {name: web-config}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, namespace: shop}
data: {CACHE: "cache:6379"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: example/api:1.0}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cache, namespace: shop}
spec:
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      containers: [{name: redis, image: redis:7.2, ports: [{containerPort: 6379}]}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ops}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      containers:
      - name: agent
        image: example/agent:1.0
        ports: [{containerPort: 9100, hostPort: 9100}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {type: NodePort, selector: {app: api}, ports: [{port: 8080, nodePort: 30080}]}
---
apiVersion: v1
kind: Service
metadata: {name: cache, namespace: shop}
spec: {selector: {app: cache}, ports: [{port: 6379}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: api, namespace: shop}
spec:
  hosts: ["*"]
  gateways: [gw]
  http: [{route: [{destination: {host: api}}]}]
"""


def _inv(tmp_path: Path) -> Inventory:
    path = tmp_path / "app.yaml"
    path.write_text(APP, encoding="utf-8")
    return load_inputs([path], settings=Settings(home=tmp_path / "home")).inventory


def test_components_have_roles(tmp_path: Path) -> None:
    """Workloads become components with a role (cache, node agent, service)."""
    view = build_architecture(Facts(_inv(tmp_path)))
    roles = {c.id: c.role for c in view.components}
    assert "cache" == roles["Deployment/shop/cache"]
    assert "node agent" == roles["DaemonSet/ops/agent"]
    assert "service" == roles["Deployment/shop/web"]


def test_entry_points_cover_every_kind(tmp_path: Path) -> None:
    """Ingress, NodePort, Istio Gateway, hostPort and hostNetwork are entry points."""
    view = build_architecture(Facts(_inv(tmp_path)))
    entries = {e.id: e for e in view.entry_points}
    assert ("internet", False) == (entries["Ingress/shop/web"].exposure,
                                   entries["Ingress/shop/web"].tls)
    assert ("Deployment/shop/web",) == entries["Ingress/shop/web"].targets
    assert "node" == entries["Service/shop/api"].exposure
    assert ("30080",) == entries["Service/shop/api"].ports
    assert ("Deployment/shop/api",) == entries["Gateway/shop/gw"].targets
    assert "DaemonSet/ops/agent#hostNetwork" in entries
    assert "DaemonSet/ops/agent#hostPort-9100" in entries


def test_trust_boundaries(tmp_path: Path) -> None:
    """Internet, cluster, one per namespace, and the node boundary with host-level workloads."""
    view = build_architecture(Facts(_inv(tmp_path)))
    bounds = {b.id: b for b in view.trust_boundaries}
    assert {"internet", "cluster", "namespace/shop", "namespace/ops", "node"} == set(bounds)
    assert ("DaemonSet/ops/agent",) == bounds["node"].members
    assert "Ingress/shop/web" in bounds["internet"].members


def test_data_flows_from_dns_names(tmp_path: Path) -> None:
    """Env values and ConfigMaps that name a Service become 'calls' flows."""
    view = build_architecture(Facts(_inv(tmp_path)))
    calls = {(f.source, f.target) for f in view.data_flows if f.kind == "calls"}
    assert {("Deployment/shop/web", "Deployment/shop/api"),
            ("Deployment/shop/web", "Deployment/shop/cache")} == calls
    assert any(f.source == "internet" and f.target == "Deployment/shop/web"
               for f in view.data_flows)


def test_mermaid_diagram(tmp_path: Path) -> None:
    """The diagram is a Mermaid flowchart with namespaces, entry points and calls."""
    diagram = build_architecture(Facts(_inv(tmp_path))).diagram
    assert diagram.startswith("flowchart LR\n")
    assert 'subgraph n_ns_shop["namespace shop"]' in diagram
    assert "internet --> n_Ingress_shop_web" in diagram
    assert "n_Deployment_shop_web -.->|calls| n_Deployment_shop_api" in diagram
