"""Probes: findings claim only what the manifests support (issue 18)."""

from __future__ import annotations

from pathlib import Path

from tests.security.scan_probes import by_rule, dumped, scan_text

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


def _bound(role_rules: str, *, ns: str = "ops", name: str = "robot") -> str:
    return f"""
apiVersion: v1
kind: ServiceAccount
metadata: {{name: {name}, namespace: {ns}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: {name}-role}}
rules:
{role_rules}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: {name}-binding}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {name}-role}}
subjects: [{{kind: ServiceAccount, name: {name}, namespace: {ns}}}]
---
""" + POD.format(name=name, ns=ns, sa=name)


def test_csr_approval_without_approve_on_signers_is_not_claimed(tmp_path: Path) -> None:
    """update on certificatesigningrequests/approval alone cannot approve anything."""
    model = scan_text(tmp_path, _bound("""
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests/approval]
  verbs: [update]
"""))
    assert "approve certificate signing requests" not in dumped(model)


def test_rbac_writes_without_escalate_or_bind_are_not_escalation(tmp_path: Path) -> None:
    """Kubernetes refuses to let RBAC writes grant more than the writer holds."""
    model = scan_text(tmp_path, _bound("""
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles, rolebindings]
  verbs: [create, update, patch]
"""))
    assert [] == by_rule(model, "identity.escalation-verbs")


def test_bind_narrowed_to_cluster_admin_is_escalation(tmp_path: Path) -> None:
    """resourceNames narrow a grant: bind on cluster-admin alone is still an escalation."""
    model = scan_text(tmp_path, _bound("""
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterroles]
  resourceNames: [cluster-admin]
  verbs: [bind]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterrolebindings]
  verbs: [create]
"""))
    titles = [f.title for f in by_rule(model, "identity.escalation-verbs")]
    assert titles and "cluster-admin" in titles[0], titles


def test_rights_of_an_aggregated_builtin_role_are_resolved(tmp_path: Path) -> None:
    """A ClusterRole labelled aggregate-to-view adds its rules to view (and edit, admin)."""
    text = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: view-secrets
  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: viewer, namespace: ops}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: viewer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: viewer, namespace: ops}]
"""
    model = scan_text(tmp_path, text)
    assert ["identity.secrets-read@ServiceAccount/ops/viewer#cluster"] == [
        f.id for f in by_rule(model, "identity.secrets-read")]
