"""No admission policy mechanism visible at all."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.admission import policy_engines, psa_labels
from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from workflow.domain.threat_model import Finding, FindingStatus, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.no-admission-policy",
    title="Is a policy engine or Pod Security Admission enforced?",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.TAMPERING),
    likelihood=1, impact=3,
    description=("The manifests show no policy engine (Kyverno, Gatekeeper, Kubewarden, "
                 "ValidatingAdmissionPolicy) and no namespace with an enforce label; whether "
                 "the cluster enforces workload policy elsewhere cannot be seen from them."),
    tactics=(refs.TA.DEFENSE_EVASION,),
    techniques=("T1610",),
    references=(*refs.cis("5.2.1"), *refs.nsa("admission-control"), *refs.POLICY),
    remediation="Confirm that the target cluster enforces Pod Security Standards or an "
                "equivalent policy engine, and record where.",
    false_positives="Platform teams often install the policy engine separately.",
    kb_topics=("policy-engine", "psa-labels"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Ask once when workloads exist but no admission control is in the manifests or profile."""
    inv = facts.inventory
    if not inv.workloads or policy_engines(inv) or facts.answers.admission_control is not None:
        return
    if any(psa_labels(inv, ns).get("enforce") in {"baseline", "restricted"}
           for ns in inv.namespaces):
        return
    yield RULE.finding("Cluster/admission", [], status=FindingStatus.QUESTION)
