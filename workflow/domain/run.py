"""A run as the rest of ktmb sees it: its status, the decisions at its gates, its options."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workflow.domain.errors import ConfigError

__all__ = ["Decision", "LlmOptions", "LlmProvider", "RunOptions", "RunStatus",
           "namespace_name"]


class RunStatus(StrEnum):
    """Where a run stands (the ``runs`` table's ``status``)."""

    QUEUED = "queued"
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPLETED = "completed"
    REJECTED = "rejected"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def settled(self) -> bool:
        """True when nothing runs until a person acts (or never again)."""
        return self in _SETTLED


_SETTLED = frozenset({RunStatus.AWAITING_APPROVAL, RunStatus.COMPLETED, RunStatus.REJECTED,
                      RunStatus.FAILED, RunStatus.INTERRUPTED})


class Decision(StrEnum):
    """A reviewer's decision at a gate, as recorded (``ktmb approve`` / ``ktmb reject``)."""

    APPROVED = "approved"
    REJECTED = "rejected"


class LlmProvider(StrEnum):
    """Which model enriches a run."""

    OFF = "off"
    OLLAMA = "ollama"
    LLAMACPP = "llamacpp"


class LlmOptions(BaseModel):
    """The model of a run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: LlmProvider = LlmProvider.OFF
    model: str | None = Field(default=None, description="Model name (Ollama) or GGUF file.")
    cache: bool = Field(default=True, description="Reuse cached answers of the same prompt.")


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def namespace_name(value: str) -> str:
    """A namespace name as Kubernetes accepts it (an RFC 1123 label), else a ConfigError."""
    if not _DNS_LABEL.fullmatch(value):
        raise ConfigError(f"--namespace must be a Kubernetes namespace name (lower-case letters, "
                          f"digits and '-', at most 63), got {value!r}")
    return value


class RunOptions(BaseModel):
    """What a run was asked to do besides reading its inputs (stored with the run)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    llm: LlmOptions = LlmOptions()
    classification: str | None = Field(
        default=None, description="The application's data classification (pci, personal, ...).")
    cloud: str | None = Field(default=None, description="eks, gke, aks or on-prem.")
    rules: tuple[str, ...] = Field(
        default=(), description="Rule ids or globs to run (--rules); every rule when empty.")
    skip_rules: tuple[str, ...] = Field(
        default=(), description="Rule ids or globs not to run (--skip-rules).")
    profile: str | None = Field(
        default=None, description="The application profile file the run read (ktmb.yaml, "
        "as named in the run's inputs), if any; its cloud and classification are the "
        "defaults of the two options above.")

    namespace: str | None = Field(
        default=None, description="The namespace of objects that name none, as `kubectl apply "
        "-n` or `helm -n` would give them (default: default); set by --namespace or, later, "
        "an application profile.")

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        return None if value is None else namespace_name(value)

    @model_validator(mode="before")
    @classmethod
    def _stored_before_0_2(cls, data: Any) -> Any:
        """Runs stored by earlier versions kept ``cloud`` and ``classification`` under ``llm``."""
        if isinstance(data, dict) and isinstance(data.get("llm"), dict) and (
                {"cloud", "classification"} & data["llm"].keys()):
            llm = dict(data["llm"])
            return {**data, "llm": {k: v for k, v in llm.items() if k in LlmOptions.model_fields},
                    "cloud": data.get("cloud", llm.get("cloud")),
                    "classification": data.get("classification", llm.get("classification"))}
        return data
