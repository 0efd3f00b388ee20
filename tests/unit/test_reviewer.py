"""The reviewer: merging with provenance, scoring modifiers, overrides, ranking, summaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.facts.derived import Facts
from agents.reviewer.review import gate_scores, merge_findings, review, similarity
from tests.unit.rules.chained import catalogue_findings
from workflow.domain.inputs import load_inputs
from workflow.domain.inventory import Inventory
from workflow.domain.settings import Settings
from workflow.domain.threat_model import (
    Citation,
    Finding,
    FindingStatus,
    Origin,
    Phase,
    Severity,
)

EXPOSED_PRIVILEGED = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      automountServiceAccountToken: false
      containers:
      - name: web
        image: registry.example.com/web:1.0
        securityContext: {privileged: true}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80}]
"""

INTERNAL_PRIVILEGED = EXPOSED_PRIVILEGED.replace("type: LoadBalancer", "type: ClusterIP")

#: An exposed pod and, one hop inside, a privileged data store: internet -> web -> db -> node.
LATERAL = EXPOSED_PRIVILEGED.replace(
    "securityContext: {privileged: true}", "securityContext: {runAsNonRoot: true}") + "---\n" + (
    INTERNAL_PRIVILEGED.replace("web", "db").replace("port: 80", "port: 5432").replace(
        "image: registry.example.com/db:1.0",
        "image: registry.example.com/db:1.0\n        ports: [{containerPort: 5432}]"))
INNER_ESCAPE = "controls.privileged-container@Deployment/shop/db#db"


def _inv(tmp_path: Path, text: str, name: str = "app.yaml") -> Inventory:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_inputs([path], settings=Settings(home=tmp_path / "home")).inventory


def _finding(fid: str, *, origin: Origin = Origin.RULE, title: str = "Privileged container",
             resources: tuple[str, ...] = ("Deployment/shop/web",), likelihood: int = 3,
             impact: int = 3, **extra: object) -> Finding:
    return Finding(id=fid, rule=fid.split("@", 1)[0], title=title, phase=Phase.CONTROLS,
                   resources=resources, likelihood=likelihood, impact=impact, origin=origin,
                   **extra)


def _by_id(findings: tuple[Finding, ...], prefix: str) -> Finding:
    return next(f for f in findings if f.id.startswith(prefix))


def test_same_fingerprint_is_one_finding() -> None:
    """Two findings with one fingerprint merge and keep both sets of evidence."""
    from workflow.domain.threat_model import Evidence

    a = _finding("controls.x@Deployment/shop/web", evidence=(Evidence(resource="a", path="/a"),))
    b = _finding("controls.x@Deployment/shop/web", evidence=(Evidence(resource="b", path="/b"),))
    merged = merge_findings([a, b])
    assert 1 == len(merged)
    assert ["/a", "/b"] == [e.path for e in merged[0].evidence]


def test_model_near_duplicate_merges_into_rule_finding() -> None:
    """An llm finding on the same resource with similar text merges, provenance kept."""
    rule = _finding("controls.privileged-container@Deployment/shop/web#web",
                    title="Privileged container web in web")
    cite = Citation(document="pss", chunk_id="pss.privileged")
    model = _finding("llm@Deployment/shop/web#1", origin=Origin.LLM,
                     title="Container web runs privileged", citations=(cite,),
                     rationale="privileged: true in the pod spec")
    merged = merge_findings([rule, model])
    assert 1 == len(merged)
    survivor = merged[0]
    assert rule.id == survivor.id
    assert Origin.MERGED == survivor.origin
    assert ("llm@Deployment/shop/web#1",) == survivor.merged_from
    assert (cite,) == survivor.citations
    assert "privileged: true in the pod spec" == survivor.rationale


def test_model_finding_on_other_resource_is_not_merged() -> None:
    """Similar text about a different resource stays a separate finding."""
    rule = _finding("controls.privileged-container@Deployment/shop/web#web")
    model = _finding("llm@Deployment/shop/api#1", origin=Origin.LLM,
                     resources=("Deployment/shop/api",))
    assert 2 == len(merge_findings([rule, model]))


def test_model_finding_with_different_text_is_not_merged() -> None:
    """Same resource but a different threat stays separate."""
    rule = _finding("controls.privileged-container@Deployment/shop/web#web")
    model = _finding("llm@Deployment/shop/web#2", origin=Origin.LLM,
                     title="Session cookies lack the Secure flag")
    assert 2 == len(merge_findings([rule, model]))
    assert 0.5 > similarity(rule, model)


def test_rule_findings_are_never_merged_with_each_other() -> None:
    """Two different rules on the same resource stay two findings."""
    a = _finding("controls.host-pid@Deployment/shop/web", title="Pod shares the host PID")
    b = _finding("controls.host-ipc@Deployment/shop/web", title="Pod shares the host IPC")
    assert 2 == len(merge_findings([a, b]))


def test_internet_exposure_raises_likelihood(tmp_path: Path) -> None:
    """Behind a public LoadBalancer an escape gap is likelier, up to one step (an exploit)."""
    exposed_inv = _inv(tmp_path, EXPOSED_PRIVILEGED, "exposed.yaml")
    internal_inv = _inv(tmp_path, INTERNAL_PRIVILEGED, "internal.yaml")
    exposed = review(Facts(exposed_inv), catalogue_findings(exposed_inv))
    internal = review(Facts(internal_inv), catalogue_findings(internal_inv))
    fid = "controls.run-as-root@Deployment/shop/web#web"
    assert 2 == _by_id(internal.findings, fid).likelihood
    assert 3 == _by_id(exposed.findings, fid).likelihood  # +1 the attack starts at the service
    assert any("outside the cluster" in r for r in exposed.adjustments[fid])
    privileged = "controls.privileged-container@Deployment/shop/web#web"
    assert 4 == _by_id(internal.findings, privileged).likelihood  # code in the pod that holds it
    assert 4 == _by_id(exposed.findings, privileged).likelihood  # exploiting it is still a step
    assert Severity.HIGH == _by_id(exposed.findings, privileged).severity


def test_attack_path_is_built_and_chains_findings(tmp_path: Path) -> None:
    """An exposed privileged pod yields an internet-to-node path naming the escape finding."""
    inv = _inv(tmp_path, EXPOSED_PRIVILEGED)
    result = review(Facts(inv), catalogue_findings(inv))
    paths = [p for p in result.attack_paths if p.id == "internet=>Node/any"]
    assert 1 == len(paths)
    chain = [paths[0].origin, *(hop.to for hop in paths[0].hops)]
    assert ["internet", "Service/shop/web", "Deployment/shop/web", "Deployment/shop/web#web",
            "Node/any"] == chain
    assert "controls.privileged-container@Deployment/shop/web#web" in paths[0].findings
    assert ("node", "Node/any") == (paths[0].target.kind, paths[0].target.ref)


def _lowered(findings: list[Finding], fid: str) -> list[Finding]:
    return [f.model_copy(update={"likelihood": 3}) if f.id == fid else f for f in findings]


def test_a_step_of_a_critical_path_is_raised_naming_the_path(tmp_path: Path) -> None:
    """A step below the ceiling that exposure does not raise gets +1, naming a path it is on."""
    inv = _inv(tmp_path, LATERAL)
    result = review(Facts(inv), _lowered(list(catalogue_findings(inv)), INNER_ESCAPE))
    reasons = [why for why in result.adjustments[INNER_ESCAPE] if "attack path" in why]
    assert 1 == len(reasons)
    named = reasons[0].removeprefix("likelihood +1: step of attack path ")
    path = next(p for p in result.attack_paths if p.id == named)
    assert INNER_ESCAPE in path.findings and path.severity in {Severity.CRITICAL, Severity.HIGH}
    assert 4 == _by_id(result.findings, INNER_ESCAPE).likelihood


def test_sensitive_data_raises_impact_and_adds_regulation(tmp_path: Path) -> None:
    """A cardholder-data label raises the impact of what reaches the data, adds PCI DSS."""
    inv = _inv(tmp_path, INTERNAL_PRIVILEGED.replace(
        "metadata: {name: web, namespace: shop}\nspec:\n  selector",
        "metadata: {name: web, namespace: shop, labels: {data-classification: pci}}\n"
        "spec:\n  selector", 1))
    result = review(Facts(inv), catalogue_findings(inv))
    item = _by_id(result.findings, "network.pod-not-isolated@Deployment/shop/web")
    assert 4 == item.impact
    assert "PCI-DSS-4.0:1.3.1" in item.references
    assert ["Deployment/shop/web"] == result.compliance["regulations"]["PCI-DSS-4.0"]["resources"]


def test_mitigation_lowers_likelihood(tmp_path: Path) -> None:
    """A policy engine in the manifests lowers the likelihood of workload-control findings."""
    engine = ("\n---\napiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: psa}\n"
              "spec: {rules: []}\n")
    plain = _inv(tmp_path, INTERNAL_PRIVILEGED, "plain.yaml")
    guarded = _inv(tmp_path, INTERNAL_PRIVILEGED + engine, "guarded.yaml")
    fid = "controls.privileged-container@Deployment/shop/web#web"
    before = _by_id(review(Facts(plain), catalogue_findings(plain)).findings, fid)
    after = _by_id(review(Facts(guarded), catalogue_findings(guarded)).findings, fid)
    assert before.likelihood - 1 == after.likelihood
    mitigations = review(Facts(guarded), catalogue_findings(guarded)).compliance["mitigations"]
    assert {"control": "policy-engine", "name": "Kyverno",
            "evidence": "ClusterPolicy/psa"} in mitigations


def test_cluster_wide_blast_radius_raises_impact(tmp_path: Path) -> None:
    """A DaemonSet's weakness (every node) has a higher impact than a Deployment's."""
    ds = INTERNAL_PRIVILEGED.replace("kind: Deployment", "kind: DaemonSet").replace(
        "securityContext: {privileged: true}", "securityContext: {privileged: false}")
    inv = _inv(tmp_path, ds)
    item = _by_id(review(Facts(inv), catalogue_findings(inv)).findings,
                  "controls.run-as-root@DaemonSet/shop/web")
    assert 4 == item.impact


def test_severity_override_wins(tmp_path: Path) -> None:
    """A reviewer's severity_override sets the band whatever the score."""
    inv = _inv(tmp_path, INTERNAL_PRIVILEGED)
    found = catalogue_findings(inv)
    fid = "controls.privileged-container@Deployment/shop/web#web"
    edited = [f.model_copy(update={"severity_override": Severity.LOW}) if f.id == fid else f
              for f in found]
    item = _by_id(review(Facts(inv), edited).findings, fid)
    assert Severity.LOW == item.severity
    assert Severity.LOW == item.severity_override


def test_ranking_orders_by_band_then_score(tmp_path: Path) -> None:
    """Findings come highest band first, then by score, inactive ones last."""
    inv = _inv(tmp_path, EXPOSED_PRIVILEGED)
    found = catalogue_findings(inv)
    fp = found[0].model_copy(update={"status": FindingStatus.FALSE_POSITIVE,
                                     "likelihood": 5, "impact": 5})
    result = review(Facts(inv), [fp, *found[1:]])
    order = ["critical", "high", "medium", "low", "info"]
    active = [f for f in result.findings if f.status != FindingStatus.FALSE_POSITIVE]
    keys = [(order.index(f.severity.value), -f.score) for f in active]
    assert sorted(keys) == keys
    assert fp.id == result.findings[-1].id


def test_summary_counts_and_overall_risk(tmp_path: Path) -> None:
    """The summary counts every finding and takes the worst open band as overall risk."""
    inv = _inv(tmp_path, EXPOSED_PRIVILEGED)
    result = review(Facts(inv), catalogue_findings(inv), model_items_dropped=2)
    assert len(result.findings) == result.summary.total
    assert result.summary.total == sum(result.summary.by_severity.values())
    assert Severity.CRITICAL == result.summary.overall_risk
    assert 2 == result.summary.model_items_dropped


def test_questions_are_not_raised(tmp_path: Path) -> None:
    """Open questions keep their base score even on exposed resources."""
    inv = _inv(tmp_path, EXPOSED_PRIVILEGED)
    found = catalogue_findings(inv)
    base = {f.id: (f.likelihood, f.impact) for f in found}
    questions = [f for f in review(Facts(inv), found).findings
                 if f.status == FindingStatus.QUESTION]
    assert questions
    assert [base[f.id] for f in questions] == [(f.likelihood, f.impact) for f in questions]


def test_compliance_summary_groups_by_framework(tmp_path: Path) -> None:
    """The compliance summary lists CIS 5.2.2 with the privileged-container finding."""
    inv = _inv(tmp_path, EXPOSED_PRIVILEGED)
    result = review(Facts(inv), catalogue_findings(inv))
    cis = result.compliance["frameworks"]["CIS-1.10"]
    assert ["controls.privileged-container@Deployment/shop/web#web"] == \
        cis["controls"]["5.2.2"]["findings"]
    assert "high" == cis["controls"]["5.2.2"]["highest"]
    assert {"CIS-1.10", "NSA-CISA-1.2", "OWASP-K8S-2022", "OWASP-K8S-2025", "PSS"} <= set(
        result.compliance["frameworks"])


def test_identity_map_lists_workloads_and_capabilities(tmp_path: Path) -> None:
    """The identity map names who runs as a service account and what it can do."""
    rbac = """
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: web-view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: web, namespace: shop}]
"""
    inv = _inv(tmp_path, EXPOSED_PRIVILEGED + rbac)
    entry = next(e for e in review(Facts(inv), []).identity_map
                 if e["subject"] == "ServiceAccount/shop/web")
    assert ["Deployment/shop/web"] == entry["workloads"]
    assert [] == entry["token_mounted_by"]
    assert "cluster-admin@cluster" in entry["capabilities"]
    assert "ClusterRole/cluster-admin" == entry["grants"][0]["role"]


def test_review_is_deterministic(tmp_path: Path) -> None:
    """Reviewing the same findings twice gives identical output."""
    inv = _inv(tmp_path, EXPOSED_PRIVILEGED)
    found = catalogue_findings(inv)
    forward = review(Facts(inv), found).model_dump()
    assert forward == review(Facts(inv), list(reversed(found))).model_dump()


@pytest.mark.parametrize("threshold", [0.5, 0.9])
def test_merge_threshold_is_respected(threshold: float) -> None:
    """A stricter threshold keeps loosely similar model findings apart."""
    rule = _finding("controls.privileged-container@Deployment/shop/web#web",
                    title="Privileged container web in web")
    model = _finding("llm@Deployment/shop/web#1", origin=Origin.LLM,
                     title="The web container is privileged and may escape")
    expected = 1 if similarity(rule, model) >= threshold else 2
    assert expected == len(merge_findings([rule, model], threshold=threshold))


def test_application_classification_applies_to_unlabelled_resources(tmp_path: Path) -> None:
    """--classification pci raises impact and brings PCI DSS into the compliance summary."""
    inv = _inv(tmp_path, INTERNAL_PRIVILEGED)
    found = catalogue_findings(inv)
    fid = "network.open-egress@Deployment/shop/web"
    plain = _by_id(review(Facts(inv), found).findings, fid)
    result = review(Facts(inv), found, data_classification="pci")
    pci = _by_id(result.findings, fid)
    assert plain.impact + 1 == pci.impact
    assert "PCI-DSS-4.0:1.3.1" in pci.references
    assert "PCI-DSS-4.0:1.3.1" not in plain.references
    assert ["Deployment/shop/web"] == result.compliance["regulations"]["PCI-DSS-4.0"]["resources"]


@pytest.mark.parametrize(("text", "expected"), [
    ("# Shop\n\nData classification: PCI (cardholder data)\n", "cardholder"),
    ("- **Data classification**: personal data of EU customers\n", "personal"),
    ("| data_classification | Confidential |\n", "confidential"),
    ("The shop sells socks.\n", None),
])
def test_classification_from_notes(text: str, expected: str | None) -> None:
    """An architecture note's 'Data classification:' line gives the application's class."""
    from agents.facts.classification import classification_from_text

    assert expected == classification_from_text(text)


def test_gate_scores_are_the_reviewers_but_for_the_attack_path_raise(tmp_path: Path) -> None:
    """A step of a path: the gate shows its score before paths; publishing adds the path's +1."""
    inv = _inv(tmp_path, LATERAL, "exposed.yaml")
    findings = _lowered(list(catalogue_findings(inv)), INNER_ESCAPE)
    at_gate = _by_id(tuple(gate_scores(Facts(inv), findings)), INNER_ESCAPE)
    published = _by_id(review(Facts(inv), findings).findings, INNER_ESCAPE)
    assert 3 == at_gate.likelihood
    assert not [why for why in at_gate.score_factors if "attack path" in why]
    assert (4, at_gate.impact) == (published.likelihood, published.impact)
    exposed = "network.loadbalancer-service@Service/shop/web"
    assert _by_id(tuple(gate_scores(Facts(inv), findings)), exposed).score == _by_id(
        review(Facts(inv), findings).findings, exposed).score
