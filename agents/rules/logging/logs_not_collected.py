"""The application profile says container logs are not collected."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import is_logging_agent
from agents.rules import refs
from agents.rules.base import RuleMeta
from workflow.domain.profile import Toggle
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="logging.logs-not-collected",
    title="Container logs are not collected off the nodes",
    phase=Phase.LOGGING,
    stride=(Stride.REPUDIATION,),
    likelihood=3, impact=3,
    description=("The application profile answers that no agent ships container logs: they "
                 "live on the node until rotated away, and an attacker on the node can erase "
                 "them."),
    tactics=(refs.TA.DEFENSE_EVASION,),
    techniques=("T1070",),
    ms_matrix=("MS-TA9021",),
    references=(*refs.nsa("audit-logging"), *refs.AUDIT),
    remediation="Run a cluster-level log agent (Fluent Bit, Vector, an OpenTelemetry "
                "collector) that ships container logs to a store outside the cluster.",
    false_positives="None while the answer stands: correct the profile if logs are shipped.",
    kb_topics=("logging-audit",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag ``log_shipping: disabled`` when workloads run and no logging agent is among them."""
    running = [wl for wl in facts.inventory.workloads if wl.kind != "PodTemplate"]
    if (running and facts.answers.log_shipping is Toggle.DISABLED
            and not any(is_logging_agent(wl) for wl in running)):
        yield RULE.finding("Cluster/logging", [facts.answer_evidence("log_shipping",
                                                                     "Cluster/logging")])
