"""SARIF 2.1.0 export: schema validity, one result per finding and resource, GitHub fields."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import jsonschema  # no types-jsonschema in the dev extras
import pytest

from agents.catalogue import rule_meta
from workflow.domain.threat_model import Evidence, Finding, InputFile, Severity, ThreatModel
from workflow.exports import sarif
from workflow.exports._common import finding_resources


def _full_run(model: ThreatModel) -> dict[str, Any]:
    run: dict[str, Any] = json.loads(sarif.render(model))["runs"][0]
    return run


def _run(model: ThreatModel) -> dict[str, Any]:
    """The run with the findings' results only (the attack paths' results left out)."""
    run = _full_run(model)
    run["results"] = [r for r in run["results"] if not r["ruleId"].startswith("attack-path/")]
    run["tool"]["driver"]["rules"] = [r for r in run["tool"]["driver"]["rules"]
                                      if not r["id"].startswith("attack-path/")]
    return run


def _results_for(run: dict[str, Any], finding_id: str) -> list[dict[str, Any]]:
    return [r for r in run["results"] if r["properties"]["findingId"] == finding_id]


def _result(run: dict[str, Any], finding_id: str, resource: str) -> dict[str, Any]:
    found = [r for r in _results_for(run, finding_id) if r["properties"]["resource"] == resource]
    assert 1 == len(found)
    return found[0]


def _find(model: ThreatModel, rule: str) -> Finding:
    return next(f for f in model.findings if f.rule == rule)


@pytest.mark.parametrize("variant", ["finished", "partial", "hostile", "no-model", "empty"])
def test_sarif_validates_against_the_published_schema(
        variant: str, make_model: Callable[..., ThreatModel], bare_model: ThreatModel,
        sarif_validator: jsonschema.Draft4Validator) -> None:
    """Every kind of model exports SARIF that the OASIS 2.1.0 schema accepts."""
    model = {
        "finished": lambda: make_model(),
        "partial": lambda: make_model(partial=True),
        "hostile": lambda: make_model(web='<script>alert("x")</script> | `x` "q"'),
        "no-model": lambda: make_model(llm=False),
        "empty": lambda: bare_model,
    }[variant]()
    document = json.loads(sarif.render(model))
    errors = [e.message for e in sarif_validator.iter_errors(document)]
    assert [] == errors
    assert "2.1.0" == document["version"]


def test_schema_validation_rejects_a_broken_log(
        model: ThreatModel, sarif_validator: jsonschema.Draft4Validator) -> None:
    """The shipped schema really bites: a result without a message is invalid."""
    document = sarif.build(model)
    broken = copy.deepcopy(document)
    del broken["runs"][0]["results"][0]["message"]
    assert not sarif_validator.is_valid(broken)
    assert sarif_validator.is_valid(document)


def test_one_result_per_finding_and_resource(model: ThreatModel) -> None:
    """A finding about three resources gives three results, one per resource."""
    run = _run(model)
    assert sum(len(finding_resources(f)) for f in model.findings) == len(run["results"])
    wildcard = _find(model, "identity.wildcard-rbac")
    results = _results_for(run, wildcard.id)
    assert ["ClusterRole/ops-admin", "ServiceAccount/shop/web", "ServiceAccount/shop/db"] == [
        r["properties"]["resource"] for r in results]
    assert 3 == len({json.dumps(r["partialFingerprints"]) for r in results})


@pytest.mark.parametrize(("rule", "level"), [
    ("controls.privileged-container", "error"),   # critical
    ("identity.wildcard-rbac", "error"),          # high
    ("data.secret-in-env", "warning"),            # medium
    ("network.no-network-policy", "note"),        # low
    ("logging.no-audit-annotations", "note"),     # info
    ("llm", "error"),                             # medium, raised to high by a reviewer
])
def test_levels_follow_the_effective_severity(model: ThreatModel, rule: str, level: str) -> None:
    """Critical and high are errors, medium a warning, low and info notes; overrides win."""
    run = _run(model)
    finding = _find(model, rule)
    assert {level} == {r["level"] for r in _results_for(run, finding.id)}


def test_rules_carry_github_metadata(model: ThreatModel) -> None:
    """Each rule has the catalogue's title, description and fix, tags and a severity."""
    run = _run(model)
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert len(rules) == len(run["tool"]["driver"]["rules"])
    rule = rules["controls.privileged-container"]
    meta = rule_meta("controls.privileged-container")
    assert meta is not None
    assert "ControlsPrivilegedContainer" == rule["name"]
    assert meta.title == rule["shortDescription"]["text"]
    assert meta.description == rule["fullDescription"]["text"]
    assert meta.remediation in rule["help"]["text"]
    assert "### Recommendation" in rule["help"]["markdown"]
    assert "9.5" == rule["properties"]["security-severity"]
    assert "error" == rule["defaultConfiguration"]["level"]
    tags = rule["properties"]["tags"]
    assert "security" == tags[0]
    for tag in ("stride/elevation_of_privilege", "attack/T1611", "attack-tactic/TA0004",
                "CIS-1.10:5.2.2", "phase/controls"):
        assert tag in tags
    assert "security-severity" not in rules["logging.no-audit-annotations"]["properties"]
    for result in run["results"]:
        assert result["ruleId"] == run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"]


def test_rule_title_is_the_catalogues_not_a_findings(model: ThreatModel) -> None:
    """A finding's own title names its resource: the rule is described by the rule's title."""
    wildcard = _find(model, "identity.wildcard-rbac")
    renamed = wildcard.model_copy(update={"title": "ClusterRole/ops-admin uses '*' in verbs"})
    run = _run(model.model_copy(update={"findings": (renamed,)}))
    rule = run["tool"]["driver"]["rules"][0]
    meta = rule_meta("identity.wildcard-rbac")
    assert meta is not None
    assert meta.title == rule["shortDescription"]["text"]
    assert "ClusterRole/ops-admin uses '*' in verbs (ClusterRole/ops-admin)." == (
        _result(run, wildcard.id, "ClusterRole/ops-admin")["message"]["text"].split(" Evidence")[0])


def test_a_rule_the_catalogue_lacks_keeps_its_findings_title(model: ThreatModel) -> None:
    """A model from an older version may name a rule ktmb no longer has: its title is kept."""
    gone = _find(model, "network.no-network-policy").model_copy(
        update={"rule": "network.retired-rule", "id": "network.retired-rule@Namespace/shop"})
    run = _run(model.model_copy(update={"findings": (gone,)}))
    assert gone.title == run["tool"]["driver"]["rules"][0]["shortDescription"]["text"]


def test_tags_stay_within_githubs_limit(make_model: Callable[..., ThreatModel]) -> None:
    """A rule with many references has at most the 10 tags GitHub shows, security first."""
    model = make_model()
    many = tuple(f"REF-{i}" for i in range(40))
    findings = tuple(f.model_copy(update={"references": many}) if f.rule.startswith("controls")
                     else f for f in model.findings)
    run = _run(model.model_copy(update={"findings": findings}))
    rule = next(r for r in run["tool"]["driver"]["rules"]
                if r["id"] == "controls.privileged-container")
    assert 10 == len(rule["properties"]["tags"])
    assert "security" == rule["properties"]["tags"][0]


def test_model_findings_get_a_phase_rule(model: ThreatModel) -> None:
    """A model finding's rule is llm/<phase>, tagged as model-generated, its text in the result."""
    run = _run(model)
    finding = _find(model, "llm")
    results = _results_for(run, finding.id)
    assert {"llm/architecture"} == {r["ruleId"] for r in results}
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "llm/architecture")
    assert "model-generated" in rule["properties"]["tags"]
    assert "Authenticate the hop with mTLS." in results[0]["message"]["text"]
    assert "llm" == results[0]["properties"]["origin"]


def test_locations_point_at_the_manifest_line(model: ThreatModel) -> None:
    """The location is the manifest (relative, %SRCROOT%) at the evidence line."""
    run = _run(model)
    privileged = _find(model, "controls.privileged-container")
    location = _result(run, privileged.id, "Deployment/shop/web")["locations"][0]
    assert {"uri": "k8s/web.yaml", "uriBaseId": "%SRCROOT%"} == (
        location["physicalLocation"]["artifactLocation"])
    assert {"startLine": 27} == location["physicalLocation"]["region"]
    assert [{"name": "web", "fullyQualifiedName": "Deployment/shop/web", "kind": "resource"}] == (
        location["logicalLocations"])


def test_unknown_line_falls_back_to_line_one(model: ThreatModel) -> None:
    """Evidence with a file but no line points at line 1 of that file."""
    run = _run(model)
    wildcard = _find(model, "identity.wildcard-rbac")
    location = _result(run, wildcard.id, "ServiceAccount/shop/web")["locations"][0]
    assert "k8s/rbac.yaml" == location["physicalLocation"]["artifactLocation"]["uri"]
    assert {"startLine": 1} == location["physicalLocation"]["region"]


def test_other_evidence_becomes_related_locations(model: ThreatModel) -> None:
    """A second piece of evidence on the same resource is a related location with its line."""
    run = _run(model)
    wildcard = _find(model, "identity.wildcard-rbac")
    result = _result(run, wildcard.id, "ClusterRole/ops-admin")
    assert 8 == result["locations"][0]["physicalLocation"]["region"]["startLine"]
    related = result["relatedLocations"]
    assert [9] == [r["physicalLocation"]["region"]["startLine"] for r in related]
    assert '/rules/0/resources = ["*"]' == related[0]["message"]["text"]


def test_resource_file_known_from_other_evidence(model: ThreatModel) -> None:
    """A finding without evidence is still placed in its resource's manifest, at line 1."""
    run = _run(model)
    finding = _find(model, "llm")
    location = _result(run, finding.id, "Deployment/shop/web")["locations"][0]
    assert "k8s/web.yaml" == location["physicalLocation"]["artifactLocation"]["uri"]
    assert {"startLine": 1} == location["physicalLocation"]["region"]


def test_resource_without_any_file_is_anchored_at_the_first_manifest(model: ThreatModel) -> None:
    """A resource no evidence locates is anchored at line 1 of the first input, and says so."""
    run = _run(model)
    finding = _find(model, "logging.no-audit-annotations")
    location = _result(run, finding.id, "StatefulSet/shop/db")["locations"][0]
    assert "k8s/web.yaml" == location["physicalLocation"]["artifactLocation"]["uri"]
    assert {"startLine": 1} == location["physicalLocation"]["region"]
    assert ("No manifest line locates StatefulSet/shop/db; the result is anchored at the start "
            "of the first input manifest.") == location["message"]["text"]
    assert "StatefulSet/shop/db" == location["logicalLocations"][0]["fullyQualifiedName"]


def test_standard_input_is_a_stated_pseudo_file(model: ThreatModel) -> None:
    """Manifests from standard input go to the pseudo-file ktmb-stdin.yaml, at their line."""
    def from_stdin(ev: Evidence) -> Evidence:
        return ev.model_copy(update={"file": "<stdin>"}) if ev.file else ev
    findings = tuple(f.model_copy(update={"evidence": tuple(from_stdin(e) for e in f.evidence)})
                     for f in model.findings)
    app = model.application.model_copy(update={"inputs": (
        InputFile(path="<stdin>", sha256="d" * 64, role="stdin"),)})
    run = _run(model.model_copy(update={"findings": findings, "application": app}))
    assert {sarif.STDIN_URI} == {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                                 for r in run["results"]}
    privileged = _find(model, "controls.privileged-container")
    location = _result(run, privileged.id, "Deployment/shop/web")["locations"][0]
    assert {"startLine": 27} == location["physicalLocation"]["region"]
    assert [sarif.STDIN_URI] == [a["location"]["uri"] for a in run["artifacts"]]
    assert "no file of this name exists" in run["artifacts"][0]["description"]["text"]


def test_a_model_without_inputs_places_results_in_a_pseudo_file(bare_model: ThreatModel,
                                                                 model: ThreatModel) -> None:
    """No input recorded at all: results go to the stated pseudo-file of the application."""
    lone = _find(model, "logging.no-audit-annotations").model_copy(update={"evidence": ()})
    app = bare_model.application.model_copy(update={"inputs": ()})
    run = _run(bare_model.model_copy(update={"findings": (lone,), "application": app}))
    assert {sarif.NO_FILE_URI} == {r["locations"][0]["physicalLocation"]["artifactLocation"]
                                   ["uri"] for r in run["results"]}
    assert [sarif.NO_FILE_URI] == [a["location"]["uri"] for a in run["artifacts"]]


def test_finding_without_resources_is_about_the_application(model: ThreatModel) -> None:
    """A finding that names no resource gives one result about the application."""
    lone = _find(model, "network.no-network-policy").model_copy(
        update={"id": "compliance.no-owner@shop", "resources": (), "evidence": ()})
    run = _run(model.model_copy(update={"findings": (lone,)}))
    assert 1 == len(run["results"])
    location = run["results"][0]["locations"][0]
    assert "Application/shop" == location["logicalLocations"][0]["fullyQualifiedName"]
    assert "No manifest line locates Application/shop" in location["message"]["text"]


def test_partial_fingerprints_are_stable(make_model: Callable[..., ThreatModel]) -> None:
    """Two exports of the same input give the same fingerprints, pinned to a known value."""
    first = _run(make_model())
    second = _run(make_model())
    assert [r["partialFingerprints"] for r in first["results"]] == [
        r["partialFingerprints"] for r in second["results"]]
    privileged = _result(first, "controls.privileged-container@Deployment/shop/web#nginx",
                         "Deployment/shop/web")
    assert {sarif.FINGERPRINT_KEY: GOLDEN_PRIVILEGED} == privileged["partialFingerprints"]


#: sha256("controls.privileged-container@Deployment/shop/web#nginx" NUL "Deployment/shop/web").
GOLDEN_PRIVILEGED = "12a5748c46ec350e537d51dbc207f491afb09f694146c672b5381815d218f6da"


def test_fingerprints_survive_line_and_score_changes(model: ThreatModel) -> None:
    """Moving the evidence line or rescoring a finding keeps its fingerprints."""
    moved = tuple(
        f.model_copy(update={
            "score": 2.0, "severity": Severity.LOW,
            "evidence": tuple(e.model_copy(update={"line": (e.line or 0) + 40})
                              for e in f.evidence)})
        for f in model.findings)
    before = {(r["properties"]["findingId"], r["properties"]["resource"]): r["partialFingerprints"]
              for r in _run(model)["results"]}
    after = {(r["properties"]["findingId"], r["properties"]["resource"]): r["partialFingerprints"]
             for r in _run(model.model_copy(update={"findings": moved}))["results"]}
    assert before == after


def test_reviewed_findings_are_suppressed(model: ThreatModel) -> None:
    """Accepted and false-positive findings carry an external suppression; open ones do not."""
    run = _run(model)
    accepted = _results_for(run, _find(model, "data.secret-in-env").id)[0]
    false_positive = _results_for(run, _find(model, "logging.no-audit-annotations").id)[0]
    open_one = _results_for(run, _find(model, "controls.privileged-container").id)[0]
    assert "external" == accepted["suppressions"][0]["kind"]
    assert "risk accepted by a reviewer" == accepted["suppressions"][0]["justification"]
    assert "false positive" in false_positive["suppressions"][0]["justification"]
    assert "suppressions" not in open_one


def test_partial_run_and_degradations_are_notifications(
        partial_model: ThreatModel) -> None:
    """A partial run and each degradation are reported as tool notifications."""
    invocation = _run(partial_model)["invocations"][0]
    texts = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert texts[0].startswith("Partial run")
    assert "compliance" in texts[0]
    assert "Degraded (data phase, retrieval): knowledge base empty; no citations" == texts[1]
    assert invocation["properties"]["partial"] is True


def test_generator_and_model_are_recorded(make_model: Callable[..., ThreatModel]) -> None:
    """The driver is ktmb at its version; the model used, or no model, is recorded."""
    run = _run(make_model())
    assert "ktmb" == run["tool"]["driver"]["name"]
    assert "0.1.0" == run["tool"]["driver"]["version"]
    assert "ollama:phi4-mini" == run["invocations"][0]["properties"]["model"]
    assert "no model" == _run(make_model(llm=False))["invocations"][0]["properties"]["model"]
    assert "ktmb/shop/run-2026-11-21-0001" == run["automationDetails"]["id"]


def test_absolute_paths_become_relative_to_their_common_root(model: ThreatModel) -> None:
    """Absolute manifest paths are made relative to their common directory, never written."""
    def absolute(ev: Evidence) -> Evidence:
        return ev.model_copy(update={"file": f"/srv/repo/{ev.file}"}) if ev.file else ev
    findings = tuple(f.model_copy(update={"evidence": tuple(absolute(e) for e in f.evidence)})
                     for f in model.findings)
    run = _run(model.model_copy(update={"findings": findings}))
    privileged = _find(model, "controls.privileged-container")
    location = _result(run, privileged.id, "Deployment/shop/web")["locations"][0]
    assert "web.yaml" == location["physicalLocation"]["artifactLocation"]["uri"]
    assert "originalUriBaseIds" not in run
    assert "/srv/repo" not in json.dumps(run)
    assert ["web.yaml"] == [ev["file"] for ev in _result(
        run, privileged.id, "Deployment/shop/web")["properties"]["evidence"]]


def test_uris_are_percent_encoded(model: ThreatModel) -> None:
    """A manifest path with spaces and a hash is a valid relative URI."""
    findings = tuple(
        f.model_copy(update={"evidence": tuple(
            e.model_copy(update={"file": "k8s/my app#1.yaml"}) if e.file == "k8s/web.yaml" else e
            for e in f.evidence)})
        for f in model.findings)
    run = _run(model.model_copy(update={"findings": findings}))
    privileged = _find(model, "controls.privileged-container")
    location = _result(run, privileged.id, "Deployment/shop/web")["locations"][0]
    assert "k8s/my%20app%231.yaml" == location["physicalLocation"]["artifactLocation"]["uri"]
    assert "originalUriBaseIds" not in run


def test_results_name_their_attack_paths(model: ThreatModel) -> None:
    """A result whose finding lies on an attack path lists that path's id."""
    run = _run(model)
    on_path = _find(model, "controls.privileged-container")
    off_path = _find(model, "data.secret-in-env")
    assert ["internet=>cluster"] == _results_for(run, on_path.id)[0]["properties"]["attackPaths"]
    assert [] == _results_for(run, off_path.id)[0]["properties"]["attackPaths"]


def test_critical_and_high_paths_are_results_with_code_flows(model: ThreatModel) -> None:
    """Each critical or high path is one result whose thread flow walks its hops in order."""
    run = _full_run(model)
    results = [r for r in run["results"] if r["ruleId"].startswith("attack-path/")]
    path = model.attack_paths[0]
    assert ["attack-path/cluster"] == [r["ruleId"] for r in results]
    flow = results[0]["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [1, 2, 3, 4] == [step["executionOrder"] for step in flow]
    assert [h.attack.lower() for h in path.hops] == [step["kinds"][0] for step in flow]
    assert ["internet=>cluster"] == [r["properties"]["pathId"] for r in results]
    rules = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert "attack-path/cluster" in rules
    assert results[0]["ruleIndex"] == [rule["id"] for rule in run["tool"]["driver"]["rules"]
                                       ].index("attack-path/cluster")
