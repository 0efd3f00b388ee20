"""The SARIF results of attack paths: one per critical or high path, with its code flow.

Each result's rule is ``attack-path/<target kind>``. Its ``codeFlows`` hold one ``threadFlow``
whose locations are the path's hops in order, each placed at the evidence of the hop (the
manifest line of a finding that evidences it, else of the resource it reaches), so GitHub's
code-scanning view walks the path through the manifests. The result's own location is the
last hop's. ``partialFingerprints`` hold a digest of the path id.
"""

from __future__ import annotations

from typing import Any

from workflow.domain.attack_graph import AttackPath, Hop
from workflow.domain.threat_model import Evidence, Severity, ThreatModel
from workflow.exports._common import fingerprint, path_target
from workflow.exports.sarif_locations import Places, location

__all__ = ["PATH_FINGERPRINT_KEY", "path_results", "path_rules", "reported"]

#: The partialFingerprints key of path results.
PATH_FINGERPRINT_KEY = "ktmbAttackPath/v1"
_BANDS = (Severity.CRITICAL, Severity.HIGH)
_TITLES = {"cluster": "control of the cluster", "node": "a node", "cloud": "a cloud identity",
           "data": "a data store", "secrets": "Secrets"}

def reported(model: ThreatModel) -> list[AttackPath]:
    """The paths that are results of their own: the critical and high ones."""
    return [p for p in model.attack_paths if p.severity in _BANDS]


def path_rules(model: ThreatModel, levels: dict[Severity, str],
               security: dict[Severity, str]) -> list[dict[str, Any]]:
    """One rule per target kind that a reported path reaches."""
    rules = []
    for kind in sorted({p.target.kind for p in reported(model)}):
        worst = min((p.severity for p in reported(model) if p.target.kind == kind),
                    key=list(Severity).index)
        text = (f"An attack path: a chain of attack steps from a foothold (the internet, a "
                f"compromised workload, a stolen credential) to {_TITLES[kind]}. The code flow "
                "walks each step at the manifest line that enables it.")
        rules.append({
            "id": f"attack-path/{kind}", "name": f"AttackPathTo{kind.title()}",
            "shortDescription": {"text": f"Attack path to {_TITLES[kind]}"},
            "fullDescription": {"text": text},
            "help": {"text": text + " Fix the step the choke points name to cut it.",
                     "markdown": text + " Fix the step the choke points name to cut it."},
            "defaultConfiguration": {"level": levels[worst]},
            "properties": {"tags": ["security", "kubernetes", "attack-path"],
                           "precision": "medium", "problem.severity": levels[worst],
                           "security-severity": security[worst]}})
    return rules


def _evidence(model: ThreatModel) -> dict[str, list[tuple[str, Evidence]]]:
    """Resource -> (finding id, evidence) for every located evidence of the model."""
    found: dict[str, list[tuple[str, Evidence]]] = {}
    for finding in model.findings:
        for ev in finding.evidence:
            if ev.file:
                found.setdefault(ev.resource, []).append((finding.id, ev))
    return found


def _hop_location(hop: Hop, by_resource: dict[str, list[tuple[str, Evidence]]],
                  places: Places, text: str) -> dict[str, Any]:
    """Where a hop shows in the manifests: a finding's evidence for it, else its resource's."""
    resource = hop.to.split("#", 1)[0]
    for fid in hop.findings:
        for owner in (resource, hop.source.split("#", 1)[0]):
            for found, ev in by_resource.get(owner, []):
                if found == fid:
                    return location(ev.resource, places.uri(ev.file), ev.line or 1, text)
    evidence = [ev for _, ev in by_resource.get(resource, [])[:1]]
    place = places.place(resource, evidence)
    return location(resource, place.uri, place.line, text)


def path_results(model: ThreatModel, rule_index: dict[str, int], places: Places,
                 levels: dict[Severity, str]) -> list[dict[str, Any]]:
    """One result per critical or high path, its hops as a code flow."""
    by_resource = _evidence(model)
    results = []
    for path in reported(model):
        steps = []
        hops: list[dict[str, Any]] = []
        for index, hop in enumerate(path.hops, start=1):
            text = (f"{index}. {hop.attack}: {hop.source} -> {hop.to}"
                    + (f" ({hop.condition})" if hop.condition else ""))
            hops.append(_hop_location(hop, by_resource, places, text))
            steps.append({"location": hops[-1], "nestingLevel": 0,
                          "executionOrder": index,
                          "kinds": [hop.attack.lower()],
                          "properties": {"findings": list(hop.findings),
                                         "controls": list(hop.controls)}})
        chain = " -> ".join([path.origin, *(h.to for h in path.hops)])
        results.append({
            "ruleId": f"attack-path/{path.target.kind}",
            "ruleIndex": rule_index[f"attack-path/{path.target.kind}"],
            "kind": "fail", "level": levels[path.severity],
            "message": {"text": f"Attack path ({path.severity.value}, score {path.score}) "
                                f"from {path.origin} to {path_target(path)}: {chain}. "
                                f"Chains {len(path.findings)} finding(s)."},
            "locations": [hops[-1]] if hops else [],
            "codeFlows": [{"message": {"text": chain},
                           "threadFlows": [{"locations": steps}]}],
            "partialFingerprints": {PATH_FINGERPRINT_KEY: fingerprint(path.id, path.origin)},
            "properties": {"pathId": path.id, "origin": path.origin,
                           "originKind": path.origin_kind,
                           "target": path.target.model_dump(mode="json"),
                           "severity": path.severity.value, "score": path.score,
                           "likelihood": path.likelihood, "impact": path.impact,
                           "findings": list(path.findings)}})
    return results
