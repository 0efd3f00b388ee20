"""Open question: are container logs collected?"""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import is_logging_agent
from agents.rules import refs
from agents.rules.base import RuleMeta
from workflow.domain.threat_model import Finding, FindingStatus, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="logging.no-log-shipping",
    title="Are container logs collected by a cluster-level agent?",
    phase=Phase.LOGGING,
    stride=(Stride.REPUDIATION,),
    likelihood=1, impact=3,
    description=("No log-shipping agent (Fluentd, Fluent Bit, Vector, Promtail, an "
                 "OpenTelemetry collector, ...) is part of these manifests. Logs may be "
                 "collected by the platform; the manifests cannot tell."),
    tactics=(refs.TA.DEFENSE_EVASION,),
    techniques=("T1070",),
    ms_matrix=("MS-TA9021",),
    references=(*refs.nsa("audit-logging"), *refs.AUDIT),
    remediation="Confirm where container logs go, who can read and delete them, and that "
                "the application's security events reach the SIEM.",
    false_positives="Managed clusters ship logs with a platform agent outside the app's "
                    "manifests.",
    kb_topics=("logging-audit",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Ask when workloads run, no logging agent is among them and the profile does not answer."""
    inv = facts.inventory
    running = [wl for wl in inv.workloads if wl.kind != "PodTemplate"]
    if (running and not any(is_logging_agent(wl) for wl in running)
            and facts.answers.log_shipping is None):
        yield RULE.finding("Cluster/logging", [], status=FindingStatus.QUESTION)
