"""Rules of the risk_review phase (explicit list, no import side effects)."""

from __future__ import annotations

from agents.rules.base import Rule
from agents.rules.risk_review import (
    path_to_cloud,
    path_to_cluster,
    path_to_data,
    path_to_node,
    path_to_secrets,
)

__all__ = ["RULES"]

RULES: tuple[Rule, ...] = (
    path_to_cloud,
    path_to_cluster,
    path_to_data,
    path_to_node,
    path_to_secrets,
)
