"""Service accounts with escalate, bind, impersonate or token-minting rights."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from agents.rules.identity._grants import capability_findings
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="identity.escalation-verbs",
    title="Service account can escalate its own privileges",
    phase=Phase.IDENTITY,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.SPOOFING),
    likelihood=2, impact=4,
    description=("escalate (with writes of roles), bind (with writes of bindings), impersonate, "
                 "serviceaccounts/token and CSR approval (with approve on a signer) each let "
                 "the holder give itself rights it does not have. Writes of RBAC objects alone "
                 "do not: the API server refuses to grant more than the writer holds."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION,),
    techniques=("T1078", "T1098"),
    ms_matrix=("MS-TA9019",),
    references=(*refs.cis("5.1.8", "5.1.11", "5.1.13"), *refs.nsa("rbac"), *refs.RBAC),
    remediation="Remove escalate, bind, impersonate, serviceaccounts/token and CSR approval "
                "from the role.",
    false_positives="RBAC managers and identity brokers designed to hand out rights.",
    kb_topics=("rbac-escalate-bind-impersonate",),
    harm="api-rights",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag service accounts that hold any privilege-escalation verb."""
    yield from capability_findings(
        facts, RULE, ["escalate", "bind", "impersonate", "token-request", "csr-approve"],
        cluster_impact=5)
