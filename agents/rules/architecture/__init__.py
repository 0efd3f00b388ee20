"""Rules of the architecture phase (explicit list, no import side effects)."""

from __future__ import annotations

from agents.rules.architecture import (
    exposed_admin_interface,
    exposed_data_store,
    front_door_without_tls,
    gateway_without_tls,
    ingress_snippet_annotation,
    ingress_without_tls,
)
from agents.rules.base import Rule

__all__ = ["RULES"]

RULES: tuple[Rule, ...] = (
    exposed_admin_interface,
    exposed_data_store,
    front_door_without_tls,
    gateway_without_tls,
    ingress_snippet_annotation,
    ingress_without_tls,
)
