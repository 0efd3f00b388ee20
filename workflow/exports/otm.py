"""The threat model as Open Threat Model (OTM) 0.2.0 JSON, IriusRisk's open format.

Mapping:

- ``project``: the application; its id is a slug of the name, stable across runs.
- ``trustZones``: the internet, the cluster, one zone per namespace (child of the cluster) and
  per node boundary. Trust ratings (0-100, higher is more trusted) are ktmb's convention:
  internet 10, cluster and namespaces 70, nodes 90 (a node holds every pod's secrets).
- ``components``: every node of the architecture graph (workloads, entry points, Services),
  every other resource a finding names (RBAC, ServiceAccounts, Namespaces...), and an
  ``internet`` client in the internet zone. Each sits in its namespace's zone (cluster-scoped
  ones in the cluster zone) and, when evidence locates it, carries a ``code`` representation
  with its manifest file and the first line evidence points at.
- ``dataflows``: the architecture graph's edges (internet exposure, entry point to target,
  data flows).
- ``threats``: one per finding; ``categories`` are its STRIDE categories and ``risk`` its
  likelihood and impact scaled from 1-5 to 20-100. Every component a finding names lists the
  threat, with a state from the finding's review status and its mitigation.
- Attack paths have no OTM element; they travel in the project's ``attributes``.
- ``mitigations``: one per distinct recommendation. A rule's recommendation is the change that
  makes the rule stop firing, so its ``riskReduction`` is 100; a model's recommendation has
  not been assessed, so it gets 50 and says so in its attributes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from workflow.domain.threat_model import Finding, FindingStatus, ThreatModel
from workflow.exports import mermaid
from workflow.exports._common import (
    STRIDE_LABELS,
    finding_resources,
    generator_text,
    is_model_finding,
    kind_of,
    manifest_files,
    name_of,
    namespace_of,
    overall_risk,
    ranked,
)

__all__ = ["OTM_VERSION", "TRUST_RATINGS", "build", "render"]

OTM_VERSION = "0.2.0"

#: Trust rating of each zone kind (0-100, higher is more trusted).
TRUST_RATINGS: dict[str, int] = {"internet": 10, "cluster": 70, "namespace": 70, "node": 90}

_INTERNET_ZONE = "trustzone/internet"
_CLUSTER_ZONE = "trustzone/cluster"
_INTERNET_CLIENT = "internet"
_REPRESENTATION = "kubernetes-manifests"
_THREAT_STATE = {
    FindingStatus.OPEN: "exposed",
    FindingStatus.QUESTION: "exposed",
    FindingStatus.ACCEPTED: "accepted",
    FindingStatus.MITIGATED: "mitigated",
    FindingStatus.FALSE_POSITIVE: "not-applicable",
}
_MITIGATION_STATE = {
    FindingStatus.MITIGATED: "implemented",
    FindingStatus.FALSE_POSITIVE: "not-applicable",
}


def _slug(text: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    return "-".join(part for part in out.split("-") if part) or "application"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _zone(ns: str | None) -> str:
    return f"trustzone/namespace/{ns}" if ns is not None else _CLUSTER_ZONE


def _trust_zones(model: ThreatModel, namespaces: set[str]) -> list[dict[str, Any]]:
    zones: dict[str, dict[str, Any]] = {
        _INTERNET_ZONE: {"id": _INTERNET_ZONE, "name": "Internet", "type": "internet",
                         "description": "Anything outside the cluster.",
                         "risk": {"trustRating": TRUST_RATINGS["internet"]}},
        _CLUSTER_ZONE: {"id": _CLUSTER_ZONE, "name": "Cluster", "type": "cluster",
                        "description": "The Kubernetes cluster the application runs in.",
                        "risk": {"trustRating": TRUST_RATINGS["cluster"]}},
    }
    for boundary in model.architecture.trust_boundaries:
        if boundary.kind == "namespace":
            namespaces.add(boundary.name)
        elif boundary.kind == "node":
            zid = f"trustzone/node/{boundary.name}"
            zones[zid] = {"id": zid, "name": f"node {boundary.name}", "type": "node",
                          "description": "A node's host: kernel, kubelet, host network.",
                          "risk": {"trustRating": TRUST_RATINGS["node"]},
                          "parent": {"trustZone": _CLUSTER_ZONE}}
    for ns in sorted(namespaces):
        zid = _zone(ns)
        zones[zid] = {"id": zid, "name": f"namespace {ns}", "type": "namespace",
                      "description": f"Kubernetes namespace {ns}.",
                      "risk": {"trustRating": TRUST_RATINGS["namespace"]},
                      "parent": {"trustZone": _CLUSTER_ZONE}}
    return list(zones.values())


def _threat(finding: Finding) -> dict[str, Any]:
    band = finding.effective_severity
    description = finding.description or finding.title
    if finding.rationale:
        description += f" Model rationale: {finding.rationale}"
    tags = [*finding.references, *finding.attack.techniques, f"phase:{finding.phase.value}"]
    if is_model_finding(finding):
        tags.append("model-generated")
    return {
        "id": finding.id,
        "name": finding.title,
        "description": description,
        "categories": [STRIDE_LABELS[s] for s in finding.stride],
        "risk": {
            "likelihood": finding.likelihood * 20,
            "likelihoodComment": f"ktmb likelihood {finding.likelihood} of 5",
            "impact": finding.impact * 20,
            "impactComment": (f"ktmb impact {finding.impact} of 5; score {finding.score} of 10, "
                              f"severity {band.value}"),
        },
        "tags": list(dict.fromkeys(tags)),
        "attributes": {
            "rule": finding.rule,
            "phase": finding.phase.value,
            "severity": band.value,
            "computedSeverity": finding.severity.value,
            "score": finding.score,
            "status": finding.status.value,
            "origin": finding.origin.value,
            "resources": list(finding_resources(finding)),
            "attack": finding.attack.model_dump(mode="json"),
            "citations": [c.model_dump(mode="json") for c in finding.citations],
            "evidence": [ev.model_dump(mode="json") for ev in finding.evidence],
            "mergedFrom": list(finding.merged_from),
        },
    }


def _mitigations(findings: list[Finding]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The distinct recommendations, and the mitigation id of every finding that has one."""
    mitigations: dict[str, dict[str, Any]] = {}
    of_finding: dict[str, str] = {}
    for finding in findings:
        if not finding.recommendation:
            continue
        model_made = is_model_finding(finding)
        mid = "mitigation/" + _digest("llm" if model_made else "rule", finding.recommendation)
        of_finding[finding.id] = mid
        if mid in mitigations:
            mitigations[mid]["attributes"]["findings"].append(finding.id)
            continue
        name = " ".join(finding.recommendation.split())
        mitigations[mid] = {
            "id": mid,
            "name": name if len(name) <= 120 else name[:119] + "\u2026",
            "description": finding.recommendation,
            "riskReduction": 50 if model_made else 100,
            "attributes": {
                "source": "model" if model_made else "rule",
                "riskReductionAssessed": not model_made,
                "findings": [finding.id],
            },
        }
    return list(mitigations.values()), of_finding


class _Components:
    """The OTM components of a model, added once each, with their threat links."""

    def __init__(self, model: ThreatModel) -> None:
        self.files = manifest_files(model)
        self.lines: dict[str, int] = {}
        for finding in model.findings:
            for ev in finding.evidence:
                if ev.line is not None and ev.file == self.files.get(ev.resource):
                    self.lines[ev.resource] = min(ev.line, self.lines.get(ev.resource, ev.line))
        self.namespaces: set[str] = set()
        self.items: dict[str, dict[str, Any]] = {
            _INTERNET_CLIENT: {"id": _INTERNET_CLIENT, "name": "Internet client",
                               "type": "generic-client", "description": "Anyone on the internet.",
                               "parent": {"trustZone": _INTERNET_ZONE}, "tags": ["external"]}}

    def add(self, ref: str, name: str, tags: list[str]) -> None:
        """Add a resource as a component in its namespace's zone (once)."""
        if ref in self.items:
            return
        ns = namespace_of(ref)
        if ns is not None:
            self.namespaces.add(ns)
        comp: dict[str, Any] = {"id": ref, "name": name,
                                "type": f"kubernetes-{kind_of(ref).lower()}",
                                "description": f"{kind_of(ref)} {ref}",
                                "parent": {"trustZone": _zone(ns)},
                                "tags": list(dict.fromkeys(tags))}
        if ref in self.files:
            comp["representations"] = [{"representation": _REPRESENTATION, "id": ref,
                                        "name": name_of(ref), "file": self.files[ref],
                                        "line": self.lines.get(ref)}]
        self.items[ref] = comp

    def link(self, finding: Finding, mitigation: str | None) -> None:
        """List a finding's threat on every component it names."""
        link: dict[str, Any] = {"threat": finding.id, "state": _THREAT_STATE[finding.status]}
        if mitigation is not None:
            link["mitigations"] = [{"mitigation": mitigation,
                                    "state": _MITIGATION_STATE.get(finding.status, "required")}]
        for ref in finding_resources(finding):
            self.items[ref].setdefault("threats", []).append(link)


def _components(model: ThreatModel, findings: list[Finding], mitigation_of: dict[str, str],
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], set[str]]:
    graph = mermaid.graph_of(model.architecture)
    known = {c.id: c for c in model.architecture.components}
    components = _Components(model)
    for group in graph.groups.values():
        for node in group:
            tags = [kind_of(node.ref)]
            if node.ref in known:
                tags += [known[node.ref].role, *known[node.ref].images]
            if node.entry:
                tags.append("entry-point")
            components.add(node.ref, node.text, tags)
    for finding in findings:
        for ref in finding_resources(finding):
            components.add(ref, f"{kind_of(ref)} {name_of(ref)}", [kind_of(ref)])
    for finding in findings:
        components.link(finding, mitigation_of.get(finding.id))
    flows = []
    for edge in graph.edges:
        source = _INTERNET_CLIENT if edge.source == mermaid.INTERNET else edge.source
        target = _INTERNET_CLIENT if edge.target == mermaid.INTERNET else edge.target
        flows.append({"id": "dataflow/" + _digest(edge.source, edge.target, edge.text),
                      "name": edge.text, "source": source, "destination": target,
                      "bidirectional": False})
    return list(components.items.values()), flows, components.namespaces


def build(model: ThreatModel) -> dict[str, Any]:
    """The OTM document of a threat model, as a JSON-ready dict."""
    findings = ranked(model.findings)
    mitigations, mitigation_of = _mitigations(findings)
    components, dataflows, namespaces = _components(model, findings, mitigation_of)
    llm = model.generator.llm
    return {
        "otmVersion": OTM_VERSION,
        "project": {
            "name": model.application.name,
            "id": _slug(model.application.name),
            "description": (f"Threat model of {model.application.name} drafted by ktmb from its "
                            f"Kubernetes manifests (run {model.run_id})."
                            + (" Partial run: not every phase has finished." if model.partial
                               else "")),
            "tags": ["kubernetes", "ktmb"] + (["partial"] if model.partial else []),
            "attributes": {
                "runId": model.run_id,
                "createdAt": model.created_at.isoformat(),
                "schemaVersion": model.schema_version,
                "partial": model.partial,
                "overallRisk": overall_risk(model).value,
                "generator": generator_text(model),
                "model": f"{llm.provider}:{llm.model}" if llm else "no model",
                "attackPaths": [p.model_dump(mode="json") for p in model.attack_paths],
            },
        },
        "representations": [{
            "name": "Kubernetes manifests", "id": _REPRESENTATION, "type": "code",
            "description": "The manifest files the model was built from.",
            "attributes": {"inputs": [i.model_dump(mode="json")
                                      for i in model.application.inputs]},
        }],
        "trustZones": _trust_zones(model, namespaces),
        "components": components,
        "dataflows": dataflows,
        "threats": [_threat(f) for f in findings],
        "mitigations": mitigations,
    }


def render(model: ThreatModel) -> str:
    """The OTM document of a threat model as indented JSON text."""
    return json.dumps(build(model), indent=2, ensure_ascii=False) + "\n"
