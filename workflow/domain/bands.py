"""Severity bands and review statuses of findings (re-exported by the threat-model schema).

Kept apart from :mod:`workflow.domain.threat_model` so that the parts of the schema that
describe a finding's triage and drift (:mod:`workflow.domain.marks`) can name them too.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CLOSED_STATUSES", "FindingStatus", "Severity"]


class Severity(StrEnum):
    """Severity bands, computed in code from the score."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


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
