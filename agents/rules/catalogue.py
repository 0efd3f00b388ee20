"""The whole rule catalogue, phase by phase."""

from __future__ import annotations

from typing import Any

from agents.rules import (
    architecture,
    compliance,
    controls,
    data,
    identity,
    logging,
    network,
    risk_review,
)
from workflow.threat_model import Phase

__all__ = ["ALL_RULES", "RULES_BY_PHASE", "rules_for"]

RULES_BY_PHASE: dict[Phase, tuple[Any, ...]] = {
    Phase.ARCHITECTURE: architecture.RULES,
    Phase.IDENTITY: identity.RULES,
    Phase.DATA: data.RULES,
    Phase.LOGGING: logging.RULES,
    Phase.NETWORK: network.RULES,
    Phase.CONTROLS: controls.RULES,
    Phase.COMPLIANCE: compliance.RULES,
    Phase.RISK_REVIEW: risk_review.RULES,
}

ALL_RULES: tuple[Any, ...] = tuple(r for rules in RULES_BY_PHASE.values() for r in rules)


def rules_for(phase: Phase) -> tuple[Any, ...]:
    """The rules of one phase."""
    return RULES_BY_PHASE[phase]
