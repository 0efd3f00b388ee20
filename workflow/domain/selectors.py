"""Kubernetes label selectors (matchLabels and matchExpressions)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["matches_selector", "selector_is_empty"]


def selector_is_empty(selector: Mapping[str, Any] | None) -> bool:
    """True for a missing or empty selector (which selects every pod in a NetworkPolicy)."""
    if not selector:
        return True
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def matches_selector(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """True when ``labels`` satisfy a LabelSelector (an empty selector matches everything)."""
    if not selector:
        return True
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        return False
    for key, value in match_labels.items():
        if labels.get(str(key)) != str(value):
            return False
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, Mapping):
            return False
        key = str(expr.get("key", ""))
        operator = str(expr.get("operator", ""))
        values = [str(v) for v in (expr.get("values") or [])]
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
        if operator not in {"In", "NotIn", "Exists", "DoesNotExist"}:
            return False
    return True
