"""Open question: is runtime threat detection in place?"""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import is_runtime_security_agent
from agents.rules import refs
from agents.rules.base import RuleMeta
from workflow.domain.threat_model import Finding, FindingStatus, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="logging.no-runtime-security",
    title="Is runtime threat detection (Falco, Tetragon, a vendor sensor) deployed?",
    phase=Phase.LOGGING,
    stride=(Stride.REPUDIATION, Stride.ELEVATION_OF_PRIVILEGE),
    likelihood=1, impact=3,
    description=("No runtime-security sensor is part of these manifests, so a shell in a "
                 "container or a container escape would be seen only if the platform runs "
                 "one."),
    tactics=(refs.TA.DEFENSE_EVASION,),
    techniques=("T1609", "T1611"),
    references=(*refs.nsa("threat-detection"), *refs.AUDIT),
    remediation="Confirm that a runtime detection tool covers the nodes this application runs "
                "on and that its alerts are triaged.",
    false_positives="Platform-wide sensors installed outside the application's manifests.",
    kb_topics=("logging-audit",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Ask when workloads run, no runtime-security agent is among them, and it is unanswered."""
    inv = facts.inventory
    running = [wl for wl in inv.workloads if wl.kind != "PodTemplate"]
    if (running and not any(is_runtime_security_agent(wl) for wl in running)
            and facts.answers.runtime_detection is None):
        yield RULE.finding("Cluster/runtime-security", [], status=FindingStatus.QUESTION)
