"""Scores and severity bands, computed in code (never by a model).

score = likelihood x impact (each 1-5) scaled to 0-10. Impact is what the asset is
(:class:`Impact`), likelihood what the attacker needs first (:class:`Likelihood`); the reviewer
moves them for exposure, classified data, blast radius and mitigations present, and counts one
harm once (:func:`adjust`). The principles, with their tests, are in docs/SEVERITY.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from workflow.domain.threat_model import Severity

__all__ = [
    "SEVERITY_ORDER",
    "Adjustment",
    "Impact",
    "Likelihood",
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


class Likelihood(IntEnum):
    """What the attacker needs first (docs/SEVERITY.md, principle 2)."""

    #: Nothing but reaching the service: no credential, or a known (default) one.
    NOTHING = 5
    #: One common step: exploit an exposed service, read the repository or the manifests, or
    #: run code in the workload that holds the asset.
    ONE_STEP = 4
    #: A foothold anywhere in the cluster, then one hop (a connection, an API call).
    FOOTHOLD = 3
    #: A foothold plus a specific further step (a kernel or setuid exploit, a token to mint).
    FURTHER_STEP = 2
    #: Administrator access already, or a theoretical route.
    ADMIN = 1


class Impact(IntEnum):
    """What the asset is (docs/SEVERITY.md, principle 1)."""

    #: Cluster control, identity-signing keys, root on every node, a cloud account.
    CLUSTER = 5
    #: A data store's data or superuser, root on one node, a namespace, users' sessions, a TLS key.
    SYSTEM = 4
    #: One service's data or availability; an unclassified store's application credentials.
    SERVICE = 3
    #: A hardening gap with no harm of its own; limited disclosure.
    LIMITED = 2
    #: Hygiene.
    HYGIENE = 1


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
        internet_exposed: the finding's attack starts at a service reachable from outside the
            cluster network (a public load balancer, an Ingress or gateway, a node port).
        reach_is_enough: the attack needs nothing but reaching that service (a known
            credential, no authentication); otherwise exploiting it is a step.
        sensitive_data: the finding discloses classified data (personal,
            cardholder, health, confidential, restricted): the data is then a system-level
            asset.
        cluster_wide: the finding's blast radius is the cluster (cluster-scoped objects,
            cluster-wide grants, DaemonSets on every node).
        mitigated: a positive control present in the manifests (policy engine, Pod Security
            Admission enforcement) blocks or reduces it.
        attack_path: the id of a critical or high attack path the finding is a step of ("" when
            none): reaching the finding through the path raises its likelihood like exposure
            does, not on top of it.
        counted_with: the id of a stronger finding that already counts the same harm on the
            same subject; this one keeps the control to fix but no harm of its own (its impact
            is at most :attr:`Impact.LIMITED`).
        unseen: what the harm depends on that the manifests do not show; the modifiers that
            would presume its size (classified data, blast radius) do not apply.
    """

    internet_exposed: bool = False
    reach_is_enough: bool = False
    sensitive_data: bool = False
    cluster_wide: bool = False
    mitigated: bool = False
    attack_path: str = ""
    counted_with: str | None = None
    unseen: str = ""


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

    Raised: likelihood by exposure outside the cluster (to at most :attr:`Likelihood.ONE_STEP`,
    exploiting the service being a step, unless reaching it is enough), or else, to the same
    ceiling, by being a step of a critical or high attack path whose harm is visible; impact to
    at least :attr:`Impact.SYSTEM` by classified data and one step by a cluster-wide blast
    radius, unless the harm's size is not visible (``unseen``). Lowered:
    likelihood by a mitigation present; impact to :attr:`Impact.LIMITED` when a stronger finding
    already counts the same harm on the same subject.
    Results stay on the 1-5 scales.
    """
    lik, imp = clamp(likelihood), clamp(impact)
    reasons: list[str] = []
    ceiling = Likelihood.NOTHING if context.reach_is_enough else Likelihood.ONE_STEP
    if context.internet_exposed and lik < ceiling:
        lik += 1
        reasons.append("likelihood +1: the attack starts at a service reachable from outside "
                       "the cluster")
    elif context.attack_path and not context.unseen and lik < ceiling:
        lik += 1
        reasons.append(f"likelihood +1: step of attack path {context.attack_path}")
    if context.mitigated:
        lik -= 1
        reasons.append("likelihood -1: mitigation present")
    if context.unseen:
        reasons.append(f"confidence low, severity kept to what is visible: {context.unseen} "
                       "is not in the manifests")
    else:
        if context.sensitive_data and imp < Impact.SYSTEM:
            imp = Impact.SYSTEM
            reasons.append(f"impact {Impact.SYSTEM:d}: discloses classified data")
        if context.cluster_wide:
            imp += 1
            reasons.append("impact +1: cluster-wide blast radius")
    if context.counted_with:
        counted = (f"the same harm on the same subject is counted once, by "
                   f"{context.counted_with}")
        if imp > Impact.LIMITED:
            imp = Impact.LIMITED
            counted = f"impact {Impact.LIMITED:d}: {counted}"
        reasons.append(counted)
    return Adjustment(clamp(lik), clamp(imp), tuple(reasons))
