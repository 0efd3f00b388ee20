"""Rules of the identity phase (explicit list, no import side effects)."""

from __future__ import annotations

from agents.rules.base import Rule
from agents.rules.identity import (
    anonymous_access,
    automount_with_rights,
    cloud_identity,
    cluster_admin,
    configmap_write,
    create_workloads,
    default_sa_bound,
    default_service_account,
    defense_evasion,
    escalation_verbs,
    human_broad_rights,
    long_lived_token,
    network_control,
    nodes_proxy,
    persistent_volume_create,
    pod_exec,
    secrets_read,
    webhook_write,
    wildcard_rbac,
)

__all__ = ["RULES"]

RULES: tuple[Rule, ...] = (
    anonymous_access,
    automount_with_rights,
    cloud_identity,
    cluster_admin,
    configmap_write,
    create_workloads,
    default_sa_bound,
    default_service_account,
    defense_evasion,
    escalation_verbs,
    human_broad_rights,
    long_lived_token,
    network_control,
    nodes_proxy,
    persistent_volume_create,
    pod_exec,
    secrets_read,
    webhook_write,
    wildcard_rbac,
)
