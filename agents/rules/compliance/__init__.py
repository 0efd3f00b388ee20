"""Rules of the compliance phase (explicit list, no import side effects)."""

from __future__ import annotations

from agents.rules.base import Rule
from agents.rules.compliance import (
    cardholder_not_segmented,
    cardholder_shared_namespace,
    sensitive_data_cleartext,
)

__all__ = ["RULES"]

RULES: tuple[Rule, ...] = (
    cardholder_not_segmented,
    cardholder_shared_namespace,
    sensitive_data_cleartext,
)
