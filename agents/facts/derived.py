"""The facts of one run: its inventory and what is derived from it, each computed once.

A :class:`Facts` is built once per run (the run context holds it) and handed to every rule, the
reviewer and the attack paths. The derived facts that several of them need (exposure, a
subject's RBAC capabilities, a resource's data classification) are computed on first use and
kept for the run; nothing is kept between runs.

The risk review and the reviewer build on findings as well: :meth:`Facts.with_findings` gives
the same facts (sharing what was computed) together with the findings they may chain.

The application profile's answers (:mod:`workflow.domain.profile`) are facts too: a question
that was answered is not asked, and an answer that reveals a gap is a finding whose evidence
is the answer, at the file and line it was written (:meth:`Facts.answer_evidence`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, TypeVar

from agents.facts.admission_controls import AdmissionControls, find_admission_controls
from agents.facts.classification import classification_of
from agents.facts.exposure import Exposure, find_exposures
from agents.facts.identity import Capability, capabilities_of
from agents.facts.placement import Placement, find_placement
from agents.facts.reachability import Reachability, find_reachability
from workflow.domain.inventory import Inventory
from workflow.domain.profile import Answers, Profile
from workflow.domain.profile_loader import LoadedProfile
from workflow.domain.threat_model import Evidence, Finding

__all__ = ["Facts", "InventoryFacts"]

T = TypeVar("T")


class InventoryFacts:
    """The derived facts of one inventory, computed on first use."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self._capabilities: dict[str, list[Capability]] = {}
        self._classification: dict[str, str | None] = {}

    @cached_property
    def exposures(self) -> dict[str, tuple[Exposure, ...]]:
        """Workload id -> the ways it is reachable from outside the cluster network."""
        return find_exposures(self.inventory)

    @cached_property
    def reachability(self) -> Reachability:
        """Which workloads may connect to which, as the NetworkPolicies decide."""
        return find_reachability(self.inventory)

    @cached_property
    def placement(self) -> Placement:
        """The node pools the manifests tell apart, and where each workload runs."""
        return find_placement(self.inventory)

    @cached_property
    def admission_controls(self) -> AdmissionControls:
        """What admission control blocks or watches, per namespace."""
        return find_admission_controls(self.inventory)

    def capabilities(self, subject: str) -> list[Capability]:
        """The dangerous abilities a subject's RBAC grants give it."""
        held = self._capabilities.get(subject)
        if held is None:
            held = self._capabilities[subject] = capabilities_of(
                self.inventory.grants_of(subject))
        return held

    def classification(self, resource_id: str) -> str | None:
        """The data classification of a resource (normalised), or None."""
        if resource_id not in self._classification:
            self._classification[resource_id] = classification_of(self.inventory, resource_id)
        return self._classification[resource_id]


class Facts:
    """What the analysis knows about one application: inventory, derived facts, findings.

    Attributes:
        inventory: the application's inventory.
        findings: the findings later steps may build on (none for the phases' own rules; the
            open findings of the earlier phases for the risk review; the reviewed ones for
            the reviewer's attack paths).
        profile: the application profile and where each of its values was written.
    """

    def __init__(self, inventory: Inventory, findings: Sequence[Finding] = (), *,
                 derived: InventoryFacts | None = None,
                 profile: LoadedProfile | None = None) -> None:
        self.inventory = inventory
        self.findings = tuple(findings)
        self.profile = profile or LoadedProfile()
        self._derived = derived if derived is not None else InventoryFacts(inventory)
        self._memo: dict[str, Any] = {}

    def with_findings(self, findings: Sequence[Finding]) -> Facts:
        """These facts with ``findings`` to build on (what was derived is shared)."""
        return Facts(self.inventory, findings, derived=self._derived, profile=self.profile)

    @property
    def application(self) -> Profile:
        """What the profile says of the application (empty without a profile)."""
        return self.profile.profile

    @property
    def answers(self) -> Answers:
        """The answers the profile gives to ktmb's questions."""
        return self.profile.profile.answers

    def answer_evidence(self, key: str, resource: str) -> Evidence:
        """An answer as the evidence of a finding about ``resource``: where it is written.

        ``path`` is the answer's pointer into the profile (``/answers/audit_logging``).
        """
        where = self.profile.where(f"answers.{key}")
        value = self.answers.given().get(key)
        return Evidence(resource=resource, path=f"/answers/{key}", value=value,
                        file=where.file if where else None, line=where.line if where else None)

    @property
    def exposures(self) -> dict[str, tuple[Exposure, ...]]:
        """Workload id -> the ways it is reachable from outside the cluster network."""
        return self._derived.exposures

    @property
    def reachability(self) -> Reachability:
        """Which workloads may connect to which, as the NetworkPolicies decide."""
        return self._derived.reachability

    @property
    def placement(self) -> Placement:
        """The node pools the manifests tell apart, and where each workload runs."""
        return self._derived.placement

    @property
    def admission_controls(self) -> AdmissionControls:
        """What admission control blocks or watches, per namespace."""
        return self._derived.admission_controls

    def derive(self, key: str, compute: Callable[[Facts], T]) -> T:
        """What ``compute`` derives from these facts and their findings, computed once.

        For the analyses above the facts (the attack graph): several rules of one phase read
        the same result, and it depends on the findings, so it is kept on this object (a
        :meth:`with_findings` copy computes its own), never in a module-level cache.
        """
        if key not in self._memo:
            self._memo[key] = compute(self)
        value: T = self._memo[key]
        return value

    def internet_exposed(self, workload_id: str) -> bool:
        """True when a workload is reachable from the internet (LoadBalancer, Ingress, ...)."""
        return any(e.internet for e in self.exposures.get(workload_id, ()))

    def capabilities(self, subject: str) -> list[Capability]:
        """The dangerous abilities a subject's RBAC grants give it."""
        return self._derived.capabilities(subject)

    def classification(self, resource_id: str) -> str | None:
        """The data classification of a resource (normalised), or None."""
        return self._derived.classification(resource_id)
