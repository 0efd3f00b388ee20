"""Precision: hardened workloads draw no high or critical finding; controls are credited."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agents.facts.derived import Facts
from agents.reviewer.review import review
from tests.unit.rules.chained import catalogue_findings
from workflow.diff import diff_models
from workflow.domain.inputs import load_inputs
from workflow.domain.inventory import Inventory
from workflow.domain.settings import Settings
from workflow.domain.threat_model import (
    Application,
    FindingStatus,
    Generator,
    Severity,
    ThreatModel,
)

HARDENED = Path(__file__).parent / "apps" / "hardened"
CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "apps"
SEVERE = {Severity.HIGH, Severity.CRITICAL}


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Inventory]:
    """Load manifest paths into an inventory through the real input pipeline.

    Defined here rather than in a conftest.py: a second conftest module would shadow the
    top-level one for tests that import it by name.
    """
    settings = Settings(home=tmp_path_factory.mktemp("ktmb-home"))

    def _load(*paths: Path) -> Inventory:
        return load_inputs(list(paths), settings=settings).inventory

    return _load


def _model(inv: Inventory, run: str) -> ThreatModel:
    from datetime import UTC, datetime

    result = review(Facts(inv), catalogue_findings(inv))
    return ThreatModel(run_id=run, created_at=datetime(2026, 1, 1, tzinfo=UTC),
                       application=Application(name="app"), generator=Generator(version="0"),
                       phases={}, findings=result.findings, summary=result.summary)


def test_hardened_app_has_no_high_or_critical(load: Callable[..., Inventory]) -> None:
    """The restricted, isolated, digest-pinned, token-less app draws nothing severe."""
    inv = load(HARDENED)
    result = review(Facts(inv), catalogue_findings(inv))
    assert [] == [f.id for f in result.findings if f.severity in SEVERE]
    assert [] == [f.id for f in result.findings if f.status == FindingStatus.OPEN]


def test_hardened_app_controls_are_credited(load: Callable[..., Inventory]) -> None:
    """Default-deny, PSA enforcement and the policy engine appear as mitigations."""
    inv = load(HARDENED)
    result = review(Facts(inv), catalogue_findings(inv))
    controls = {(m["control"], m["name"]) for m in result.compliance["mitigations"]}
    assert {("default-deny", "Egress+Ingress"), ("pod-security-admission", "enforce=restricted"),
            ("policy-engine", "Kyverno")} <= controls
    flagged = {f.rule for f in result.findings}
    assert not flagged & {"network.no-default-deny", "network.pod-not-isolated",
                          "controls.namespace-without-psa", "controls.no-admission-policy"}


def test_unrelated_manifests_keep_fingerprints(load: Callable[..., Inventory],
                                               tmp_path: Path) -> None:
    """Adding an unrelated app in another namespace only adds findings; none change."""
    other = tmp_path / "other.yaml"
    other.write_text("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: legacy, namespace: legacy}
spec:
  selector: {matchLabels: {app: legacy}}
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers: [{name: legacy, image: example/legacy:latest}]
""", encoding="utf-8")
    before = _model(load(HARDENED), "A")
    after = _model(load(HARDENED, other), "B")
    diff = diff_models(before, after)
    assert () == diff.resolved
    assert () == diff.changed
    assert diff.new
    assert all("legacy" in f.id or f.id.startswith(("controls.no-admission",))
               for f in diff.new)


@pytest.mark.corpus
def test_corpus_hardened_boutique_has_no_high(load: Callable[..., Inventory]) -> None:
    """The hardened Online Boutique chart draws no high or critical finding."""
    app = CORPUS / "online-boutique-helm-hardened"
    if not app.is_dir():
        pytest.skip("shared corpus not present")
    inv = load(app)
    result = review(Facts(inv), catalogue_findings(inv))
    assert [] == [f.id for f in result.findings if f.severity in SEVERE]


@pytest.mark.corpus
def test_corpus_insecure_boutique_scores_worse(load: Callable[..., Inventory]) -> None:
    """The release manifests (public LoadBalancer, no NetworkPolicy) score worse than hardened."""
    secure, insecure = CORPUS / "online-boutique-helm-hardened", CORPUS / "online-boutique"
    if not (secure.is_dir() and insecure.is_dir()):
        pytest.skip("shared corpus not present")
    good_inv = load(secure)
    good = review(Facts(good_inv), catalogue_findings(good_inv))
    bad_inv = load(insecure)
    bad = review(Facts(bad_inv), catalogue_findings(bad_inv))
    assert Severity.HIGH == bad.summary.overall_risk
    # The hardened chart's worst finding is its one cloud identity, whose rights are unseen.
    assert Severity.MEDIUM == good.summary.overall_risk
    bad_rules = {f.rule for f in bad.findings}
    assert {"network.pod-not-isolated", "network.no-default-deny",
            "network.loadbalancer-service"} <= bad_rules
    assert [] == [f for f in good.findings if f.rule in {"network.pod-not-isolated",
                                                         "network.no-default-deny"}]
