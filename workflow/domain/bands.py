"""Severity bands, the 1-5 scale and review statuses (re-exported by the threat-model schema).

Kept apart from :mod:`workflow.domain.threat_model` so that the parts of the schema that
describe the attack graph (:mod:`workflow.domain.attack_graph`) and a finding's triage and drift
(:mod:`workflow.domain.marks`) can name them without importing the model.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

__all__ = ["CLOSED_STATUSES", "FindingStatus", "Score15", "Severity"]


class Severity(StrEnum):
    """Severity bands, computed in code from the score."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


#: A likelihood or impact on the 1-5 scale.
Score15 = Annotated[int, Field(ge=1, le=5)]


class FindingStatus(StrEnum):
    """A finding's review status."""

    OPEN = "open"
    ACCEPTED = "accepted"
    MITIGATED = "mitigated"
    FALSE_POSITIVE = "false_positive"
    QUESTION = "question"


#: The statuses a reviewer closes a finding with.
CLOSED_STATUSES = frozenset({FindingStatus.ACCEPTED, FindingStatus.MITIGATED,
                             FindingStatus.FALSE_POSITIVE})
