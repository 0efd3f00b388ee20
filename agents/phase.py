"""What a phase is: its declaration, and what one run of it produces.

Each phase declares itself in its own module (``agents/architecture.py`` ...
``agents/risk_review.py``) as a :class:`PhaseSpec`: its rules, its prompt, the inventory facts
its prompt shows the model, and any extra step. The graph, the scan, the rule catalogue and
the enrichment iterate over those declarations (:mod:`agents.phases`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from agents.facts.derived import Facts
from agents.rules.base import Rule
from workflow.domain.run_state import findings_key
from workflow.domain.threat_model import (
    ArchitectureView,
    AttackPath,
    Finding,
    LlmInfo,
    Phase,
    PhaseRecord,
)

__all__ = ["PhaseResult", "PhaseSpec", "PromptView", "WorkloadDetail"]


class WorkloadDetail(StrEnum):
    """A facet of a workload that a phase's prompt shows besides its images and account."""

    TOKEN = "token"  # noqa: S105 - a facet name, not a password
    VOLUMES = "volumes"
    SECRET_REFS = "secret_refs"  # noqa: S105 - a facet name, not a password
    PORTS = "ports"
    POD_LABELS = "pod_labels"
    CONTAINER_CONTROLS = "container_controls"


@dataclass(frozen=True)
class PromptView:
    """The inventory facts a phase's prompt shows the model.

    Attributes:
        kinds: resource kinds, most important first; ``*workloads`` stands for every kind
            that runs pods.
        workload_details: what the prompt says about each workload beyond its images, service
            account, replicas and host namespaces.
    """

    kinds: tuple[str, ...]
    workload_details: frozenset[WorkloadDetail] = frozenset()


#: An extra step of a phase: the architecture view it reconstructs from the facts.
ExtraStep = Callable[[Facts], ArchitectureView]
#: A phase's attack paths from the facts and the findings it chains (shown at its gate).
PathsStep = Callable[[Facts], tuple[AttackPath, ...]]


@dataclass(frozen=True)
class PhaseSpec:
    """One methodology phase: everything that makes it different from the others."""

    phase: Phase
    title: str
    rules: tuple[Rule, ...]
    view: PromptView
    extra_step: ExtraStep | None = None
    paths_step: PathsStep | None = None

    @property
    def prompt(self) -> str:
        """The id of its prompt (``prompts/<id>.v<N>.md``; the newest version is used)."""
        return self.phase.value


@dataclass
class PhaseResult:
    """What one run of a phase produced."""

    phase: Phase
    findings: list[Finding]
    record: PhaseRecord
    degradations: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)
    prompts: dict[str, Any] = field(default_factory=dict)
    llm: LlmInfo | None = None
    architecture: ArchitectureView | None = None
    attack_paths: tuple[AttackPath, ...] | None = None
    model_paths: list[dict[str, Any]] | None = None

    def state_update(self) -> dict[str, Any]:
        """This result as an update of the run's checkpointed state."""
        update: dict[str, Any] = {
            findings_key(self.phase): {f.id: f.model_dump(mode="json") for f in self.findings},
            "phases": {self.phase.value: self.record.model_dump(mode="json")},
            "degradations": self.degradations,
            "usage": {self.phase.value: self.usage} if self.usage else {},
            "prompts": self.prompts,
        }
        if self.llm is not None:
            update["llm"] = self.llm.model_dump(mode="json")
        if self.architecture is not None:
            update["architecture"] = self.architecture.model_dump(mode="json")
        if self.attack_paths is not None:
            update["attack_paths"] = [p.model_dump(mode="json") for p in self.attack_paths]
        if self.model_paths is not None:
            update["model_paths"] = self.model_paths
        return update
