"""Scores and severity bands, computed in code (never by a model).

score = likelihood x impact (each 1-5) scaled to 0-10; the reviewer may raise likelihood or
impact for internet exposure, sensitive data and cluster-wide blast radius, and lower them for
mitigations present, before scoring.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.domain.threat_model import Severity

__all__ = [
    "SEVERITY_ORDER",
    "Adjustment",
    "RiskContext",
    "adjust",
    "clamp",
    "score",
    "severity",
    "severity_for",
]

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


@dataclass(frozen=True)
class RiskContext:
    """What the reviewer knows about a finding's surroundings.

    Attributes:
        internet_exposed: a resource of the finding is reachable from the internet.
        sensitive_data: a resource of the finding holds classified data (personal, cardholder,
            health, confidential, restricted).
        cluster_wide: the finding's blast radius is the cluster (cluster-scoped objects,
            cluster-wide grants, DaemonSets on every node).
        mitigated: a positive control present in the manifests (policy engine, Pod Security
            Admission enforcement) blocks or reduces it.
        on_attack_path: the finding is a step of a critical or high attack path.
        attack_path: the id of that path (named in the reason).
    """

    internet_exposed: bool = False
    sensitive_data: bool = False
    cluster_wide: bool = False
    mitigated: bool = False
    on_attack_path: bool = False
    attack_path: str = ""


@dataclass(frozen=True)
class Adjustment:
    """Likelihood and impact after the modifiers, and why they moved."""

    likelihood: int
    impact: int
    reasons: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        """The 0-10 score of the adjusted values."""
        return score(self.likelihood, self.impact)


def adjust(likelihood: int, impact: int, context: RiskContext) -> Adjustment:
    """Apply the reviewer's modifiers to a base likelihood and impact (each step is one point).

    Raised: likelihood by internet exposure and by lying on an attack path; impact by sensitive
    data and by a cluster-wide blast radius. Lowered: likelihood by a mitigation present.
    Results stay on the 1-5 scales.
    """
    lik, imp = clamp(likelihood), clamp(impact)
    reasons: list[str] = []
    if context.internet_exposed:
        lik += 1
        reasons.append("likelihood +1: reachable from the internet")
    if context.on_attack_path:
        lik += 1
        reasons.append(f"likelihood +1: step of attack path {context.attack_path}"
                       if context.attack_path else "likelihood +1: step of an attack path")
    if context.mitigated:
        lik -= 1
        reasons.append("likelihood -1: mitigation present")
    if context.sensitive_data:
        imp += 1
        reasons.append("impact +1: sensitive data")
    if context.cluster_wide:
        imp += 1
        reasons.append("impact +1: cluster-wide blast radius")
    return Adjustment(clamp(lik), clamp(imp), tuple(reasons))
