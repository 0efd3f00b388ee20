"""Open question: how long are logs kept, and are they protected?"""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from workflow.domain.threat_model import Finding, FindingStatus, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="logging.log-retention-question",
    title="How long are application and audit logs retained, and who can delete them?",
    phase=Phase.LOGGING,
    stride=(Stride.REPUDIATION,),
    likelihood=1, impact=2,
    description=("Retention and integrity of logs are platform settings that manifests do not "
                 "show; regulated applications usually need a documented period (for example "
                 "a year for PCI DSS)."),
    tactics=(refs.TA.DEFENSE_EVASION,),
    techniques=("T1070",),
    ms_matrix=("MS-TA9021",),
    references=(*refs.nsa("audit-logging"), *refs.AUDIT),
    remediation="Record the retention period and the access controls of the log store in "
                "the threat model.",
    false_positives="None: this is a question for the reviewer.",
    kb_topics=("logging-audit",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Ask once when the application runs workloads (there are logs to keep), unanswered."""
    inv = facts.inventory
    if facts.answers.log_retention is None and any(wl.kind != "PodTemplate"
                                                   for wl in inv.workloads):
        yield RULE.finding("Cluster/log-retention", [], status=FindingStatus.QUESTION)
