"""The shared shape of the attack-path rules: one finding per path of the rule's kind."""

from __future__ import annotations

from collections.abc import Iterator

from agents.attack_paths import find_paths
from agents.facts.derived import Facts
from agents.rules.base import RuleMeta, evidence
from workflow.domain.threat_model import Finding

__all__ = ["path_findings"]


def path_findings(rule: RuleMeta, facts: Facts) -> Iterator[Finding]:
    """One finding of an attack-path rule per path: its steps as evidence, the chain in text."""
    for path in (p for p in find_paths(facts) if p.kind == rule.id):
        chain = ", ".join(path.findings) or "none recorded"
        yield rule.finding(
            (path.workload, *path.steps[1:2]),
            [evidence(step, "", f"step {index}") for index, step in enumerate(path.steps)],
            detail=path.entry, impact=path.impact,
            title=f"{rule.title}: " + " -> ".join(path.steps),
            description=f"{rule.description} Chains: {chain}.")
