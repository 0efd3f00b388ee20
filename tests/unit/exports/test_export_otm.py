"""OTM 0.2.0 export: schema validity, trust zones, components, threats and mitigations."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import jsonschema  # no types-jsonschema in the dev extras
import pytest

from workflow.domain.threat_model import ThreatModel
from workflow.exports import otm


def _doc(model: ThreatModel) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(otm.render(model))
    return document


def _by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


@pytest.mark.parametrize("variant", ["finished", "partial", "hostile", "no-model", "empty"])
def test_otm_validates_against_the_published_schema(
        variant: str, make_model: Callable[..., ThreatModel], bare_model: ThreatModel,
        otm_validator: jsonschema.Draft7Validator) -> None:
    """Every kind of model exports OTM that the IriusRisk 0.2.0 schema accepts."""
    model = {
        "finished": lambda: make_model(),
        "partial": lambda: make_model(partial=True),
        "hostile": lambda: make_model(web='<script>alert("x")</script>'),
        "no-model": lambda: make_model(llm=False),
        "empty": lambda: bare_model,
    }[variant]()
    document = _doc(model)
    assert [] == [e.message for e in otm_validator.iter_errors(document)]
    assert "0.2.0" == document["otmVersion"]


def test_schema_validation_rejects_a_broken_document(
        model: ThreatModel, otm_validator: jsonschema.Draft7Validator) -> None:
    """The shipped schema really bites: a threat without risk is invalid."""
    document = otm.build(model)
    broken = copy.deepcopy(document)
    del broken["threats"][0]["risk"]
    assert not otm_validator.is_valid(broken)
    assert otm_validator.is_valid(document)


def test_project_names_the_application_and_run(partial_model: ThreatModel) -> None:
    """The project is the application (stable id) and records the run and its partiality."""
    project = _doc(partial_model)["project"]
    assert "shop" == project["name"]
    assert "shop" == project["id"]
    assert "run-2026-11-21-0001" == project["attributes"]["runId"]
    assert project["attributes"]["partial"] is True
    assert "partial" in project["tags"]
    assert "Partial run" in project["description"]
    assert ["internet=>cluster"] == [p["id"] for p in project["attributes"]["attackPaths"]]


def test_trust_zones_nest_namespaces_in_the_cluster(model: ThreatModel) -> None:
    """Internet, cluster and one zone per namespace, each namespace a child of the cluster."""
    zones = _by_id(_doc(model)["trustZones"])
    assert {"trustzone/internet", "trustzone/cluster", "trustzone/namespace/shop",
            "trustzone/namespace/monitoring"} == set(zones)
    assert {"trustZone": "trustzone/cluster"} == zones["trustzone/namespace/shop"]["parent"]
    assert zones["trustzone/internet"]["risk"]["trustRating"] < (
        zones["trustzone/cluster"]["risk"]["trustRating"])


def test_components_sit_in_their_namespace_zone(model: ThreatModel) -> None:
    """Workloads are in their namespace zone, cluster-scoped resources in the cluster zone."""
    components = _by_id(_doc(model)["components"])
    assert {"trustZone": "trustzone/namespace/shop"} == (
        components["Deployment/shop/web"]["parent"])
    assert {"trustZone": "trustzone/cluster"} == components["ClusterRole/ops-admin"]["parent"]
    assert {"trustZone": "trustzone/internet"} == components["internet"]["parent"]
    assert "kubernetes-deployment" == components["Deployment/shop/web"]["type"]
    assert "entry-point" in components["Ingress/shop/web"]["tags"]


def test_components_carry_their_manifest_location(model: ThreatModel) -> None:
    """A component that evidence locates has a code representation with file and line."""
    components = _by_id(_doc(model)["components"])
    representation = components["Deployment/shop/web"]["representations"][0]
    assert ("kubernetes-manifests", "k8s/web.yaml", 27) == (
        representation["representation"], representation["file"], representation["line"])


def test_every_reference_resolves(model: ThreatModel) -> None:
    """Threats, mitigations, flow ends and zone parents named anywhere exist in the document."""
    document = _doc(model)
    components = _by_id(document["components"])
    threats = _by_id(document["threats"])
    mitigations = _by_id(document["mitigations"])
    zones = _by_id(document["trustZones"])
    assert len(components) == len(document["components"])
    for comp in components.values():
        assert comp["parent"]["trustZone"] in zones
        for link in comp.get("threats", []):
            assert link["threat"] in threats
            for mit in link.get("mitigations", []):
                assert mit["mitigation"] in mitigations
    for flow in document["dataflows"]:
        assert flow["source"] in components
        assert flow["destination"] in components


def test_threats_come_from_findings(model: ThreatModel) -> None:
    """One threat per finding, STRIDE as categories, likelihood and impact on 0-100."""
    threats = _by_id(_doc(model)["threats"])
    assert {f.id for f in model.findings} == set(threats)
    privileged = threats["controls.privileged-container@Deployment/shop/web#nginx"]
    assert ["Elevation of Privilege", "Tampering"] == privileged["categories"]
    assert (80, 100) == (privileged["risk"]["likelihood"], privileged["risk"]["impact"])
    assert "CIS-1.10:5.2.2" in privileged["tags"]
    model_made = threats["llm.architecture.0@Deployment/shop/web"]
    assert "model-generated" in model_made["tags"]
    assert "Model rationale:" in model_made["description"]


def test_threats_link_to_every_resource_they_name(model: ThreatModel) -> None:
    """A finding about three resources is listed on all three components."""
    components = _doc(model)["components"]
    holders = [c["id"] for c in components
               if any(t["threat"] == "identity.wildcard-rbac@ClusterRole/ops-admin"
                      for t in c.get("threats", []))]
    assert ["ClusterRole/ops-admin", "ServiceAccount/shop/web", "ServiceAccount/shop/db"] == (
        holders)


@pytest.mark.parametrize(("finding_id", "state", "mitigation_state"), [
    ("controls.privileged-container@Deployment/shop/web#nginx", "exposed", "required"),
    ("data.secret-in-env@Deployment/shop/web#DB_PASSWORD", "accepted", "required"),
    ("logging.no-audit-annotations@StatefulSet/shop/db", "not-applicable", None),
])
def test_threat_states_follow_review_status(
        model: ThreatModel, finding_id: str, state: str, mitigation_state: str | None) -> None:
    """Open findings are exposed, accepted ones accepted, false positives not applicable."""
    links = [t for c in _doc(model)["components"] for t in c.get("threats", [])
             if t["threat"] == finding_id]
    assert {state} == {t["state"] for t in links}
    got = {m["state"] for t in links for m in t.get("mitigations", [])}
    assert ({mitigation_state} if mitigation_state else set()) == got


def test_mitigations_come_from_recommendations(model: ThreatModel) -> None:
    """One mitigation per recommendation; a rule's fully reduces risk, a model's is unassessed."""
    mitigations = _doc(model)["mitigations"]
    by_name = {m["name"]: m for m in mitigations}
    assert len({f.recommendation for f in model.findings if f.recommendation}) == len(mitigations)
    assert 100 == by_name["Remove securityContext.privileged or set it to false."][
        "riskReduction"]
    model_made = by_name["Authenticate the hop with mTLS."]
    assert (50, False) == (model_made["riskReduction"],
                           model_made["attributes"]["riskReductionAssessed"])


def test_dataflows_include_exposure_and_flows(model: ThreatModel) -> None:
    """The internet exposes the ingress, which routes to the web workload."""
    flows = {(f["source"], f["destination"], f["name"]) for f in _doc(model)["dataflows"]}
    assert ("internet", "Ingress/shop/web", "exposes") in flows
    assert ("Ingress/shop/web", "Deployment/shop/web", "routes to") in flows
    assert ("Deployment/shop/web", "Service/shop/db", "sql: tcp/5432") in flows
