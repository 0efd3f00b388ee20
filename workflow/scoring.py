"""Scores and severity bands, computed in code (never by a model).

score = likelihood x impact (each 1-5) scaled to 0-10; the reviewer may raise likelihood or
impact for internet exposure, sensitive data and cluster-wide blast radius, and lower them for
mitigations present, before scoring.
"""

from __future__ import annotations

from workflow.threat_model import Severity

__all__ = ["SEVERITY_ORDER", "clamp", "score", "severity", "severity_for"]

SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)

#: Lowest score of each band, highest band first.
_BANDS: tuple[tuple[float, Severity], ...] = (
    (8.0, Severity.CRITICAL),
    (6.0, Severity.HIGH),
    (3.6, Severity.MEDIUM),
    (1.6, Severity.LOW),
    (0.0, Severity.INFO),
)


def clamp(value: int) -> int:
    """Clamp a likelihood or impact to 1-5."""
    return max(1, min(5, value))


def score(likelihood: int, impact: int) -> float:
    """The 0-10 score of a likelihood and an impact on 1-5 scales."""
    return round(clamp(likelihood) * clamp(impact) / 2.5, 1)


def severity(value: float) -> Severity:
    """The severity band of a 0-10 score."""
    for floor, band in _BANDS:
        if value >= floor:
            return band
    return Severity.INFO


def severity_for(likelihood: int, impact: int) -> Severity:
    """The severity band of a likelihood and an impact."""
    return severity(score(likelihood, impact))
