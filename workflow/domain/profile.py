"""The application profile (``ktmb.yaml``): who owns the application, what it holds, and answers.

One file per application, beside its manifests (``ktmb.yaml`` or ``ktmb.yml``) or named with
``--profile FILE``; architecture notes may carry the same keys in a front-matter block. The
profile says what the manifests cannot: the owner, the data classification(s), the cloud, how
the application is exposed, a reference to the risk appetite that governs it, and the answers
to the questions ktmb otherwise asks (audit logging, log retention and collection, encryption at
rest and of etcd, backups, runtime detection, admission control, who operates the cluster).

An answered question is a fact for the rules: the question finding is not raised, and an answer
that reveals a gap (``audit_logging: disabled``) is a finding whose evidence is the answer, at
its file and line. The JSON Schema of this model is published as
``docs/schemas/profile.schema.json``; after a change run::

    python -m workflow.domain.profile > docs/schemas/profile.schema.json
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

__all__ = [
    "ANSWER_KEYS",
    "Answers",
    "Cloud",
    "EtcdEncryption",
    "Exposure",
    "Profile",
    "Toggle",
    "json_schema",
    "json_schema_text",
    "retention_days",
]


class Toggle(StrEnum):
    """A yes-or-no answer about something the platform does."""

    ENABLED = "enabled"
    DISABLED = "disabled"


class Cloud(StrEnum):
    """Where the cluster runs."""

    EKS = "eks"
    GKE = "gke"
    AKS = "aks"
    ON_PREM = "on-prem"
    OTHER = "other"


class Exposure(StrEnum):
    """Who can reach the application, as its owners intend."""

    INTERNET = "internet"
    INTERNAL = "internal"
    CLUSTER = "cluster"


class EtcdEncryption(StrEnum):
    """How Secrets are encrypted in etcd (the API server's encryption provider)."""

    KMS = "kms"
    AESCBC = "aescbc"
    AESGCM = "aesgcm"
    SECRETBOX = "secretbox"
    DISK = "disk"
    NONE = "none"


_DURATION = re.compile(r"^(\d{1,5})\s*(d|w|m|y)$")
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


def retention_days(value: str) -> int:
    """The days a retention answer means (``90d``, ``12w``, ``13m``, ``1y``; ``none`` is 0).

    Raises:
        ValueError: the value is not a duration.
    """
    text = value.strip().lower()
    if text == "none":
        return 0
    match = _DURATION.match(text)
    if match is None:
        raise ValueError("is not a duration; write e.g. 90d, 12w, 13m or 1y (or none)")
    return int(match.group(1)) * _UNIT_DAYS[match.group(2)]


def _retention(value: Any) -> Any:
    if isinstance(value, str):
        retention_days(value)
        return value.strip().lower()
    return value


def _toggle(value: Any) -> Any:
    """YAML reads ``yes``, ``on`` and ``true`` as booleans: they mean enabled."""
    if isinstance(value, bool):
        return Toggle.ENABLED if value else Toggle.DISABLED
    return value


Switch = Annotated[Toggle | None, BeforeValidator(_toggle)]


def _classifications(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Text = Annotated[str, Field(min_length=1, max_length=500)]


class Answers(BaseModel):
    """Answers to the questions ktmb asks; each is optional, and an unanswered one is asked."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    audit_logging: Switch = Field(
        default=None, description="Is Kubernetes API audit logging enabled? "
        "(logging.audit-policy-question; disabled: logging.audit-logging-disabled)")
    log_retention: Annotated[str | None, BeforeValidator(_retention)] = Field(
        default=None, description="How long logs are kept: 90d, 12w, 13m, 1y, or none "
        "(logging.log-retention-question; too short: logging.log-retention-too-short).")
    log_shipping: Switch = Field(
        default=None, description="Are container logs collected by a cluster-level agent? "
        "(logging.no-log-shipping; disabled: logging.logs-not-collected)")
    runtime_detection: Text | None = Field(
        default=None, description="The runtime threat-detection tool (falco, tetragon, a "
        "vendor), or none (logging.no-runtime-security; none: "
        "logging.runtime-detection-absent).")
    encryption_at_rest: Switch = Field(
        default=None, description="Are the data stores' volumes encrypted at rest? "
        "(data.persistent-storage-question; disabled: data.volumes-unencrypted)")
    backup: Switch = Field(
        default=None, description="Are the data stores backed up? "
        "(data.persistent-storage-question; disabled: data.backups-absent)")
    etcd_encryption: EtcdEncryption | None = Field(
        default=None, description="How Secrets are encrypted in etcd: kms (envelope "
        "encryption with a KMS key), aescbc, aesgcm, secretbox (a key on the control plane), "
        "disk (storage encryption only) or none (none: data.etcd-secrets-unencrypted).")
    admission_control: Text | None = Field(
        default=None, description="What enforces workload policy (pod-security-admission, "
        "kyverno, gatekeeper, ...), or none (controls.no-admission-policy; none: "
        "controls.admission-control-absent).")
    cluster_operator: Text | None = Field(
        default=None, description="Who operates the cluster (a platform team, the cloud "
        "provider's managed control plane, ...).")

    def given(self) -> dict[str, str]:
        """The answered questions and their answers, as text."""
        return {key: str(value) for key, value in self.model_dump(mode="json").items()
                if value is not None}

    def says_none(self, key: str) -> bool:
        """True when a free-text answer (a tool) is ``none``."""
        value = getattr(self, key)
        return isinstance(value, str) and value.strip().lower() in {"none", "no", "absent"}


#: The keys of :class:`Answers`, in the order they are documented.
ANSWER_KEYS: tuple[str, ...] = tuple(Answers.model_fields)


class Profile(BaseModel):
    """An application's profile: ``ktmb.yaml``, or the front matter of its architecture notes."""

    model_config = ConfigDict(frozen=True, extra="forbid",
                              json_schema_extra={"additionalProperties": False})

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="The application's name (the default of --app).")
    owner: Text | None = Field(default=None, description="Who owns the application and its "
                                                          "risks (a team or a person).")
    data_classification: Annotated[
        tuple[Annotated[str, Field(min_length=1, max_length=50)], ...],
        BeforeValidator(_classifications)] = Field(
        default=(), description="The data the application holds: one classification or a "
        "list (public, internal, confidential, personal, cardholder, health, restricted, or "
        "pci, pii, phi, ...); the most sensitive is the default of --classification.")
    cloud: Cloud | None = Field(default=None, description="Where the cluster runs (the "
                                                          "default of --cloud).")
    exposure: Exposure | None = Field(
        default=None, description="Who can reach the application: internet, internal "
        "(corporate network) or cluster (other workloads only).")
    risk_appetite: Text | None = Field(
        default=None, description="A reference to the risk appetite that governs the "
        "application (a document, a policy id); recorded in the model.")
    answers: Answers = Field(default_factory=Answers)

    @field_validator("name", "owner", "risk_appetite")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value


def json_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`Profile` (``docs/schemas/profile.schema.json``)."""
    schema = Profile.model_json_schema(mode="validation")
    schema["$id"] = "https://ktmb.dev/schema/profile-1.0.json"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ktmb application profile (ktmb.yaml)"
    return schema


def json_schema_text() -> str:
    """The published schema file's exact text."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    import sys

    sys.stdout.write(json_schema_text())
