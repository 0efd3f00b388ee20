"""The application profile says nothing enforces workload policy at admission."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.admission import policy_engines, psa_labels
from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.admission-control-absent",
    title="No admission control enforces workload policy",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE, Stride.TAMPERING),
    likelihood=2, impact=3,
    description=("The application profile answers that neither Pod Security Admission nor a "
                 "policy engine is enforced, and the manifests show none: a privileged or "
                 "host-mounting pod is admitted as written."),
    tactics=(refs.TA.DEFENSE_EVASION,),
    techniques=("T1610",),
    references=(*refs.cis("5.2.1"), *refs.nsa("admission-control"), *refs.POLICY),
    remediation="Enforce Pod Security Standards (pod-security.kubernetes.io/enforce labels) or "
                "a policy engine (Kyverno, Gatekeeper, ValidatingAdmissionPolicy).",
    false_positives="None while the answer stands: correct the profile if policy is enforced.",
    kb_topics=("policy-engine", "psa-labels"),
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag ``admission_control: none`` when the manifests show no admission control either."""
    inv = facts.inventory
    if not inv.workloads or not facts.answers.says_none("admission_control"):
        return
    if policy_engines(inv) or any(psa_labels(inv, ns).get("enforce") in {"baseline",
                                                                          "restricted"}
                                  for ns in inv.namespaces):
        return
    yield RULE.finding("Cluster/admission", [facts.answer_evidence("admission_control",
                                                                   "Cluster/admission")])
