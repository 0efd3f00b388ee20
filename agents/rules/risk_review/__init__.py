"""Rules of the risk_review phase (explicit list, no import side effects)."""

from __future__ import annotations

from agents.rules.base import Rule
from agents.rules.risk_review import (
    internet_to_cloud,
    internet_to_cluster,
    internet_to_data_store,
    internet_to_node,
)

__all__ = ["RULES"]

RULES: tuple[Rule, ...] = (
    internet_to_cloud,
    internet_to_cluster,
    internet_to_data_store,
    internet_to_node,
)
