"""Rules of the logging phase (explicit list, no import side effects)."""

from __future__ import annotations

from agents.rules.base import Rule
from agents.rules.logging import (
    audit_logs_secrets,
    audit_policy_question,
    log_retention_question,
    no_log_shipping,
    no_runtime_security,
)

__all__ = ["RULES"]

RULES: tuple[Rule, ...] = (
    audit_logs_secrets,
    audit_policy_question,
    log_retention_question,
    no_log_shipping,
    no_runtime_security,
)
