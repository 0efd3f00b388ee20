"""The facts a phase's rules see in a run: the inventory and the earlier phases' findings."""

from __future__ import annotations

from agents.facts.derived import Facts
from agents.phases import PHASE_SPECS
from agents.rules.base import run_rules
from workflow.domain.inventory import Inventory
from workflow.domain.profile_loader import LoadedProfile
from workflow.domain.threat_model import PHASES, Finding, Phase

__all__ = ["catalogue_findings", "facts_for"]


def facts_for(phase: Phase, inv: Inventory, profile: LoadedProfile | None = None) -> Facts:
    """``inv``'s facts with the findings of every phase before ``phase`` (none approved away)."""
    facts = Facts(inv, profile=profile)
    earlier = [rule for spec in PHASE_SPECS[:PHASES.index(phase)] for rule in spec.rules]
    return facts.with_findings(run_rules(earlier, facts))


def catalogue_findings(inv: Inventory) -> list[Finding]:
    """Every rule's findings over ``inv``, phase by phase as a run takes them (no gates)."""
    facts = Facts(inv)
    found: list[Finding] = []
    for spec in PHASE_SPECS:
        found += run_rules(spec.rules, facts.with_findings(found))
    return found
