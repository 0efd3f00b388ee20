"""Severity bands and the 1-5 scale, shared by findings and attack paths.

:mod:`workflow.domain.threat_model` re-exports both; they live here so that the schema of the
attack graph (:mod:`workflow.domain.attack_graph`) can use them without importing the model.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

__all__ = ["Score15", "Severity"]


class Severity(StrEnum):
    """Severity bands, computed in code from the score."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


#: A likelihood or impact on the 1-5 scale.
Score15 = Annotated[int, Field(ge=1, le=5)]
