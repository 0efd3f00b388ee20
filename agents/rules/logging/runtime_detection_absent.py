"""The application profile says no runtime threat detection runs."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import is_runtime_security_agent
from agents.rules import refs
from agents.rules.base import RuleMeta
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="logging.runtime-detection-absent",
    title="No runtime threat detection covers the application's nodes",
    phase=Phase.LOGGING,
    stride=(Stride.REPUDIATION, Stride.ELEVATION_OF_PRIVILEGE),
    likelihood=2, impact=3,
    description=("The application profile answers that no runtime-security sensor runs: a "
                 "shell spawned in a container or a container escape would go unnoticed."),
    tactics=(refs.TA.DEFENSE_EVASION,),
    techniques=("T1609", "T1611"),
    references=(*refs.nsa("threat-detection"), *refs.AUDIT),
    remediation="Deploy a runtime detection tool (Falco, Tetragon, a vendor sensor) on the "
                "nodes this application runs on and route its alerts to someone on call.",
    false_positives="None while the answer stands: correct the profile if a sensor runs.",
    kb_topics=("logging-audit",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag ``runtime_detection: none`` when workloads run without a sensor among them."""
    running = [wl for wl in facts.inventory.workloads if wl.kind != "PodTemplate"]
    if (running and facts.answers.says_none("runtime_detection")
            and not any(is_runtime_security_agent(wl) for wl in running)):
        yield RULE.finding("Cluster/runtime-security", [
            facts.answer_evidence("runtime_detection", "Cluster/runtime-security")])
