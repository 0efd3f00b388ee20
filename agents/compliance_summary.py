"""The per-framework compliance summary of a threat model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agents.facts.admission import default_deny_namespaces, policy_engines, psa_labels
from agents.facts.classification import SENSITIVE_CLASSES, regulations_for
from agents.facts.derived import Facts
from agents.rules.refs import FRAMEWORK_NAMES, framework_of
from workflow.domain.inventory import Inventory
from workflow.domain.scoring import SEVERITY_ORDER
from workflow.domain.threat_model import Finding, FindingStatus, Severity

__all__ = ["build_compliance", "mitigations", "regulated_data"]

def mitigations(inv: Inventory) -> list[dict[str, str]]:
    """Positive controls present in the manifests, credited rather than reported."""
    out = [{"control": "policy-engine", "name": name, "evidence": rid}
           for name, rid in sorted(policy_engines(inv).items())]
    for ns, directions in sorted(default_deny_namespaces(inv).items()):
        out.append({"control": "default-deny", "name": "+".join(sorted(directions)),
                    "evidence": f"Namespace/{ns}"})
    for ns in inv.namespaces:
        level = psa_labels(inv, ns).get("enforce")
        if level in {"baseline", "restricted"}:
            out.append({"control": "pod-security-admission", "name": f"enforce={level}",
                        "evidence": f"Namespace/{ns}"})
    return out


def regulated_data(facts: Facts,
                   data_classification: str | None = None) -> dict[str, list[str]]:
    """Regulation prefix -> resources whose data classification calls for it.

    ``data_classification`` is the application's own, applied to workloads without one.
    """
    out: dict[str, set[str]] = {}
    for wl in facts.inventory.workloads:
        level = facts.classification(wl.id) or data_classification
        if level not in SENSITIVE_CLASSES:
            continue
        for ref in regulations_for(level):
            out.setdefault(ref.split(":", 1)[0], set()).add(wl.id)
    return {k: sorted(v) for k, v in sorted(out.items())}


def _worst(items: Sequence[Severity]) -> str | None:
    for band in SEVERITY_ORDER:
        if band in items:
            return band.value
    return None


def build_compliance(facts: Facts, findings: Sequence[Finding], *,
                     data_classification: str | None = None) -> dict[str, Any]:
    """Findings grouped per framework and control, regulations in scope, and credited controls.

    Shape::

        {"frameworks": {"CIS-1.10": {"name": ..., "findings": 3, "highest": "high",
                                     "controls": {"5.2.2": {"findings": [ids],
                                                             "highest": "high"}}}},
         "regulations": {"PCI-DSS-4.0": {"name": ..., "resources": [...]}},
         "mitigations": [{"control": ..., "name": ..., "evidence": ...}],
         "open_questions": 2}
    """
    frameworks: dict[str, dict[str, Any]] = {}
    for item in (f for f in findings if f.is_open):
        band = item.effective_severity
        for ref in item.references:
            prefix = framework_of(ref)
            if prefix is None:
                continue
            control = ref.split(":", 1)[1]
            entry = frameworks.setdefault(prefix, {"name": FRAMEWORK_NAMES[prefix],
                                                   "controls": {}, "_ids": set(),
                                                   "_bands": []})
            slot = entry["controls"].setdefault(control, {"findings": [], "_bands": [],
                                                          "_seen": set()})
            if item.id not in slot["_seen"]:
                slot["_seen"].add(item.id)
                slot["findings"].append(item.id)
                slot["_bands"].append(band)
            entry["_ids"].add(item.id)
            entry["_bands"].append(band)
    summary: dict[str, Any] = {}
    for prefix in sorted(frameworks, key=lambda p: list(FRAMEWORK_NAMES).index(p)):
        entry = frameworks[prefix]
        controls = {}
        for control, slot in sorted(entry["controls"].items()):
            controls[control] = {"findings": sorted(slot["findings"]),
                                 "highest": _worst(slot["_bands"])}
        summary[prefix] = {"name": entry["name"], "findings": len(entry["_ids"]),
                           "highest": _worst(entry["_bands"]), "controls": controls}
    regulations = {prefix: {"name": FRAMEWORK_NAMES.get(prefix, prefix), "resources": res}
                   for prefix, res in regulated_data(facts, data_classification).items()}
    return {
        "frameworks": summary,
        "regulations": regulations,
        "mitigations": mitigations(facts.inventory),
        "open_questions": sum(1 for f in findings if f.status == FindingStatus.QUESTION),
    }
