"""Open question: is API-server audit logging enabled?"""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from workflow.domain.inventory import Inventory
from workflow.domain.threat_model import Finding, FindingStatus, Phase, Stride

__all__ = ["RULE", "audit_policies", "evaluate"]

RULE = RuleMeta(
    id="logging.audit-policy-question",
    title="Is Kubernetes API audit logging enabled, and with which policy?",
    phase=Phase.LOGGING,
    stride=(Stride.REPUDIATION,),
    likelihood=1, impact=3,
    description=("Control-plane audit logging is configured on the API server, not in "
                 "application manifests, and no audit Policy is among them: who read a Secret "
                 "or exec'd into a pod is recorded only if the cluster audits it."),
    tactics=(refs.TA.DEFENSE_EVASION,),
    techniques=("T1070", "T1562.008"),
    ms_matrix=("MS-TA9022",),
    references=(*refs.cis("3.2.1", "3.2.2"), *refs.nsa("audit-logging"), *refs.AUDIT),
    remediation="Confirm that API audit logging is on (managed clusters: enable the provider's "
                "control-plane audit logs) and covers secrets, exec and RBAC changes.",
    false_positives="Managed clusters may audit by default; the question is what and for how "
                    "long.",
    kb_topics=("logging-audit",),
)


def audit_policies(inv: Inventory) -> list[str]:
    """Ids of audit.k8s.io Policy objects in the inventory."""
    return [r.id for r in inv.of_kind("Policy") if r.api_version.startswith("audit.k8s.io")]


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Ask when no audit Policy object is in the manifests and the profile does not answer."""
    inv = facts.inventory
    if inv.workloads and not audit_policies(inv) and facts.answers.audit_logging is None:
        yield RULE.finding("Cluster/audit", [], status=FindingStatus.QUESTION)
