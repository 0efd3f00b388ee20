"""The application profile says API audit logging is disabled."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from workflow.domain.profile import Toggle
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="logging.audit-logging-disabled",
    title="Kubernetes API audit logging is disabled",
    phase=Phase.LOGGING,
    stride=(Stride.REPUDIATION,),
    likelihood=3, impact=3,
    description=("The application profile answers that the cluster does not audit API "
                 "requests: who read a Secret, exec'd into a pod or changed RBAC would not be "
                 "recorded anywhere."),
    tactics=(refs.TA.DEFENSE_EVASION,),
    techniques=("T1070", "T1562.008"),
    ms_matrix=("MS-TA9022",),
    references=(*refs.cis("3.2.1"), *refs.nsa("audit-logging"), *refs.AUDIT),
    remediation="Enable API audit logging with a policy that records secrets, exec and RBAC "
                "changes (managed clusters: the provider's control-plane audit logs).",
    false_positives="None while the answer stands: correct the profile if auditing is on.",
    kb_topics=("logging-audit",),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag the answer ``audit_logging: disabled`` when the application runs workloads."""
    if facts.inventory.workloads and facts.answers.audit_logging is Toggle.DISABLED:
        yield RULE.finding("Cluster/audit", [facts.answer_evidence("audit_logging",
                                                                   "Cluster/audit")])
