"""Probes: dangerous rights that were not modelled, for accounts, users and groups (issue 18)."""

from __future__ import annotations

from pathlib import Path

from tests.security.scan_probes import by_rule, scan_text

RIGHTS = """
apiVersion: v1
kind: ServiceAccount
metadata: {{name: robot, namespace: ops}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: robot}}
rules:
{rules}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: robot}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: robot}}
subjects: [{subject}]
"""
SA = "{kind: ServiceAccount, name: robot, namespace: ops}"


def _rights(rules: str, subject: str = SA) -> str:
    return RIGHTS.format(rules=rules, subject=subject)


def test_writing_configmaps_cluster_wide_is_reported(tmp_path: Path) -> None:
    """Writing ConfigMaps reaches CoreDNS's configuration and EKS's aws-auth map."""
    model = scan_text(tmp_path, _rights(
        '- {apiGroups: [""], resources: [configmaps], verbs: [update, patch]}'))
    assert ["identity.configmap-write@ServiceAccount/ops/robot#cluster"] == [
        f.id for f in by_rule(model, "identity.configmap-write")]


def test_writing_aws_auth_by_name_is_reported(tmp_path: Path) -> None:
    """A grant narrowed to the aws-auth ConfigMap is still cluster admin on EKS."""
    model = scan_text(tmp_path, _rights(
        '- {apiGroups: [""], resources: [configmaps], resourceNames: [aws-auth], '
        'verbs: [update, patch]}'))
    found = by_rule(model, "identity.configmap-write")
    assert 1 == len(found)
    assert "aws-auth" in found[0].title


def test_traffic_interception_rights_are_reported(tmp_path: Path) -> None:
    """Services, Endpoints, NetworkPolicies and port-forward redirect or open traffic."""
    for resource in ("services", "endpoints", "networkpolicies", "pods/portforward"):
        group = "networking.k8s.io" if resource == "networkpolicies" else ""
        verbs = "[create]" if resource == "pods/portforward" else "[create, update, patch]"
        model = scan_text(tmp_path, _rights(
            f'- {{apiGroups: ["{group}"], resources: [{resource}], verbs: {verbs}}}'))
        assert ["identity.network-control@ServiceAccount/ops/robot#cluster"] == [
            f.id for f in by_rule(model, "identity.network-control")], resource


def test_creating_persistent_volumes_is_reported(tmp_path: Path) -> None:
    """A PersistentVolume can be a hostPath onto any node's filesystem."""
    model = scan_text(tmp_path, _rights(
        '- {apiGroups: [""], resources: [persistentvolumes], verbs: [create]}'))
    assert ["identity.persistent-volume-create@ServiceAccount/ops/robot#cluster"] == [
        f.id for f in by_rule(model, "identity.persistent-volume-create")]


def test_deleting_events_and_webhooks_is_reported(tmp_path: Path) -> None:
    """Deleting Events covers tracks; deleting webhook configurations removes policy."""
    model = scan_text(tmp_path, _rights(
        '- {apiGroups: [""], resources: [events], verbs: [delete, deletecollection]}\n'
        '- {apiGroups: [admissionregistration.k8s.io], '
        'resources: [validatingwebhookconfigurations], verbs: [delete]}'))
    assert ["identity.defense-evasion@ServiceAccount/ops/robot#cluster"] == [
        f.id for f in by_rule(model, "identity.defense-evasion")]


def test_users_and_groups_are_judged_for_every_dangerous_right(tmp_path: Path) -> None:
    """A group that can port-forward to any pod is reported, not only admin-like groups."""
    model = scan_text(tmp_path, _rights(
        '- {apiGroups: [""], resources: [pods/portforward], verbs: [create]}',
        subject="{kind: Group, name: support, apiGroup: rbac.authorization.k8s.io}"))
    assert ["identity.human-broad-rights@Group/support#cluster"] == [
        f.id for f in by_rule(model, "identity.human-broad-rights")]
