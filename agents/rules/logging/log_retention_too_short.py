"""The application profile gives a log retention shorter than the data calls for."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.classification import most_sensitive
from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from workflow.domain.profile import retention_days
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["MINIMUM_DAYS", "RULE", "evaluate"]

#: The shortest retention accepted: a year for cardholder data (PCI DSS 10.5.1), else 90 days.
MINIMUM_DAYS = {"cardholder": 365}
_DEFAULT_DAYS = 90

RULE = RuleMeta(
    id="logging.log-retention-too-short",
    title="Logs are not kept long enough to investigate an incident",
    phase=Phase.LOGGING,
    stride=(Stride.REPUDIATION,),
    likelihood=2, impact=3,
    description=("The application profile gives a log retention below 90 days (a year when "
                 "the application holds cardholder data): intrusions are often found months "
                 "later, when their traces are gone."),
    tactics=(refs.TA.DEFENSE_EVASION,),
    techniques=("T1070",),
    ms_matrix=("MS-TA9021",),
    references=(*refs.nsa("audit-logging"), *refs.AUDIT),
    remediation="Keep application and audit logs for at least 90 days, a year for cardholder "
                "data, in a store that the application's operators cannot delete from.",
    false_positives="Logs archived elsewhere for longer than the answer says.",
    kb_topics=("logging-audit",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag a ``log_retention`` answer below the minimum for the application's data."""
    answer = facts.answers.log_retention
    if answer is None or not facts.inventory.workloads:
        return
    level = most_sensitive(facts.application.data_classification)
    minimum = MINIMUM_DAYS.get(level or "", _DEFAULT_DAYS)
    days = retention_days(answer)
    if days < minimum:
        yield RULE.finding(
            "Cluster/log-retention",
            [facts.answer_evidence("log_retention", "Cluster/log-retention")],
            title=f"Logs are kept {days} days, less than the {minimum} the application's "
                  "data calls for")
