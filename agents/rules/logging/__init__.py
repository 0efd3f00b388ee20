"""Rules of the logging phase (explicit list, no import side effects)."""

from __future__ import annotations

from agents.rules.base import Rule
from agents.rules.logging import (
    audit_logging_disabled,
    audit_logs_secrets,
    audit_policy_question,
    log_retention_question,
    log_retention_too_short,
    logs_not_collected,
    no_log_shipping,
    no_runtime_security,
    runtime_detection_absent,
)

__all__ = ["RULES"]

RULES: tuple[Rule, ...] = (
    audit_logging_disabled,
    audit_logs_secrets,
    audit_policy_question,
    log_retention_question,
    log_retention_too_short,
    logs_not_collected,
    no_log_shipping,
    no_runtime_security,
    runtime_detection_absent,
)
