"""A fake model enrichment for graph and run tests: one finding per workload and phase."""

from __future__ import annotations

from collections.abc import Sequence

from agents.enrichment.enricher import EnrichmentResult
from agents.enrichment.prompt import NotesInput
from agents.facts.derived import Facts
from agents.phase import PhaseSpec
from workflow.domain.passages import Passage
from workflow.domain.threat_model import Finding, LlmInfo, Phase

__all__ = ["FakeEnricher"]


class FakeEnricher:
    """Adds ``test.<phase>@<workload>`` to every phase; records guidance; can fail once."""

    info = LlmInfo(provider="test", model="fake")

    def __init__(self, fail_once_in: Phase | None = None) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.fail_once_in = fail_once_in

    def enrich(self, spec: PhaseSpec, facts: Facts, findings: Sequence[Finding],
               passages: Sequence[Passage], notes: NotesInput,
               guidance: str | None) -> EnrichmentResult:
        """The phase's findings plus one per workload; a simulated crash when asked."""
        phase = spec.phase
        self.calls.append((phase.value, guidance))
        if phase == self.fail_once_in:
            self.fail_once_in = None
            raise RuntimeError(f"simulated crash in {phase.value}")
        extra = tuple(Finding(id=f"test.{phase.value}@{wl.id}", rule=f"test.{phase.value}",
                              title=f"{phase.value} check of {wl.name}", phase=phase,
                              resources=(wl.id,), likelihood=3, impact=4)
                      for wl in facts.inventory.workloads)
        return EnrichmentResult(phase=phase, findings=extra)
