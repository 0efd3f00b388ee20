"""Rules of the data phase (explicit list, no import side effects)."""

from __future__ import annotations

from agents.rules.base import Rule
from agents.rules.data import (
    configmap_credential,
    default_credential,
    host_persistent_volume,
    literal_credential,
    persistent_storage_question,
    secret_as_env,
    secret_in_manifest,
    sensitive_data_store,
    unclassified_data_store,
)

__all__ = ["RULES"]

RULES: tuple[Rule, ...] = (
    configmap_credential,
    default_credential,
    host_persistent_volume,
    literal_credential,
    persistent_storage_question,
    secret_as_env,
    secret_in_manifest,
    sensitive_data_store,
    unclassified_data_store,
)
