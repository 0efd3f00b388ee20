"""Rules of the data phase (explicit list, no import side effects)."""

from __future__ import annotations

from agents.rules.base import Rule
from agents.rules.data import (
    backups_absent,
    configmap_credential,
    default_credential,
    etcd_secrets_unencrypted,
    host_persistent_volume,
    literal_credential,
    persistent_storage_question,
    secret_as_env,
    secret_in_manifest,
    sensitive_data_store,
    unclassified_data_store,
    volumes_unencrypted,
)

__all__ = ["RULES"]

RULES: tuple[Rule, ...] = (
    backups_absent,
    configmap_credential,
    default_credential,
    etcd_secrets_unencrypted,
    host_persistent_volume,
    literal_credential,
    persistent_storage_question,
    secret_as_env,
    secret_in_manifest,
    sensitive_data_store,
    unclassified_data_store,
    volumes_unencrypted,
)
