"""Probes: severity follows what the asset is (issue 18), never the number of values."""

from __future__ import annotations

from pathlib import Path

from tests.security.scan_probes import by_rule, scan_text
from workflow.domain.threat_model import Severity

CLUSTER_ADMIN_POD = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: ops}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: deployer-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: deployer, namespace: ops}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: deployer, namespace: ops}
spec:
  selector: {matchLabels: {app: deployer}}
  template:
    metadata: {labels: {app: deployer}}
    spec:
      serviceAccountName: deployer
      containers: [{name: deployer, image: "example/deployer:1.0"}]
"""



def test_cluster_admin_token_mounted_in_a_pod_is_critical(tmp_path: Path) -> None:
    """A cluster-admin service account whose token a pod mounts is full cluster control."""
    model = scan_text(tmp_path, CLUSTER_ADMIN_POD)
    admin = by_rule(model, "identity.cluster-admin")
    assert [Severity.CRITICAL] == [f.severity for f in admin]


def test_cloud_identity_with_unseen_permissions_is_not_critical(tmp_path: Path) -> None:
    """Unseen cloud permissions lower confidence; the exposed workload does not make it critical."""
    text = """
apiVersion: v1
kind: ServiceAccount
metadata:
  name: api
  namespace: shop
  annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::111122223333:role/api"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      serviceAccountName: api
      containers: [{name: api, image: "example/api:1.0", ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: api}
  ports: [{port: 443, targetPort: 8080}]
"""
    model = scan_text(tmp_path, text, classification="pci")
    found = by_rule(model, "identity.cloud-identity")
    assert 1 == len(found)
    assert found[0].severity in {Severity.MEDIUM, Severity.HIGH}
    assert "low" == found[0].confidence
    assert any("not in the manifests" in factor for factor in found[0].score_factors)
