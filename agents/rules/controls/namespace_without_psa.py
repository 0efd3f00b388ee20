"""Namespaces that run workloads without Pod Security Admission enforcement."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.admission import application_namespaces, psa_labels
from agents.facts.derived import Facts
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, FindingStatus, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.namespace-without-psa",
    title="Namespace without Pod Security Admission enforcement",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE,),
    likelihood=2, impact=3,
    description=("Without a pod-security.kubernetes.io/enforce label at baseline or restricted, "
                 "nothing built into Kubernetes stops a privileged pod in this namespace."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION, refs.TA.DEFENSE_EVASION),
    techniques=("T1610",),
    references=(*refs.cis("5.2.1"), *refs.nsa("pod-security"), *refs.POLICY),
    remediation="Label the namespace pod-security.kubernetes.io/enforce=restricted (or "
                "baseline) and pin enforce-version.",
    false_positives="Clusters that enforce the same through a policy engine or an "
                    "AdmissionConfiguration default.",
    kb_topics=("psa-labels", "policy-engine"),
    starts_at_service=False,
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag namespaces, with workloads or declared, that do not enforce baseline or restricted."""
    inv = facts.inventory
    for ns in application_namespaces(inv):
        rid = f"Namespace/{ns}"
        if rid not in inv:
            yield RULE.finding(
                rid, [], status=FindingStatus.QUESTION, likelihood=1,
                title=f"Is Pod Security Admission enforced in namespace {ns}?",
                description=f"The manifests do not declare namespace {ns}, so its Pod Security "
                            "Admission labels cannot be seen.")
            continue
        level = psa_labels(inv, ns).get("enforce")
        if level in {"baseline", "restricted"}:
            continue
        yield RULE.finding(rid, [located(inv, rid, "/metadata/labels/pod-security.kubernetes"
                                              ".io~1enforce", level)],
                           title=f"Namespace {ns} does not enforce Pod Security Standards"
                                 + (" (enforce=privileged)" if level else ""))
