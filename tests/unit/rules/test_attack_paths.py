"""Attack paths from the inventory graph: steps, chained findings, stability."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agents.attack_paths import attack_paths, find_paths
from agents.facts.derived import Facts
from tests.unit.rules.chained import catalogue_findings, facts_for
from workflow.domain.inputs import load_inputs
from workflow.domain.inventory import Inventory
from workflow.domain.settings import Settings
from workflow.domain.threat_model import Phase

FIXTURES = Path(__file__).parent / "fixtures"


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


def test_node_path_steps(load: Callable[..., Inventory]) -> None:
    """internet -> LoadBalancer -> privileged web -> node -> cluster."""
    inv = load(FIXTURES / "risk_review.internet-to-node" / "fail_privileged_behind_lb.yaml")
    paths = [p for p in find_paths(facts_for(Phase.RISK_REVIEW, inv))
             if p.kind == "risk_review.internet-to-node"]
    assert 1 == len(paths)
    assert ("internet", "Service/shop/web", "Deployment/shop/web",
            "node (privileged-container)", "cluster") == paths[0].steps
    assert ("controls.privileged-container@Deployment/shop/web#web",) == paths[0].findings


def test_cluster_path_chains_identity_findings(load: Callable[..., Inventory]) -> None:
    """An exposed pod with a secret-reading token chains the identity findings."""
    inv = load(FIXTURES / "risk_review.internet-to-cluster"
               / "fail_secret_reader_behind_ingress.yaml")
    paths = [p for p in find_paths(facts_for(Phase.RISK_REVIEW, inv))
             if p.kind == "risk_review.internet-to-cluster"]
    assert 1 == len(paths)
    assert "ServiceAccount/shop/web" == paths[0].steps[3]
    assert "cluster" == paths[0].target
    assert {"identity.automount-with-rights@Deployment/shop/web",
            "identity.secrets-read@ServiceAccount/shop/web#cluster"} == set(paths[0].findings)


def test_data_store_path_needs_an_open_store(load: Callable[..., Inventory]) -> None:
    """The data-store path exists only while the store accepts any pod."""
    base = FIXTURES / "risk_review.internet-to-data-store"
    open_paths = find_paths(facts_for(Phase.RISK_REVIEW, load(base / "fail_open_database.yaml")))
    closed_paths = find_paths(facts_for(Phase.RISK_REVIEW,
                                        load(base / "pass_database_isolated.yaml")))
    assert ["risk_review.internet-to-data-store"] == [p.kind for p in open_paths]
    assert "Deployment/shop/db" == open_paths[0].target
    assert [] == [p for p in closed_paths if p.kind == "risk_review.internet-to-data-store"]


def test_paths_follow_the_findings_given(load: Callable[..., Inventory]) -> None:
    """Without the escape finding (e.g. marked away), there is no node path."""
    inv = load(FIXTURES / "risk_review.internet-to-node" / "fail_privileged_behind_lb.yaml")
    found = [f for f in catalogue_findings(inv)
             if f.rule != "controls.privileged-container"]
    facts = Facts(inv).with_findings(found)
    assert [] == [p for p in attack_paths(facts) if "internet-to-node" in p.id]


def test_path_findings_list_steps_and_chain(load: Callable[..., Inventory]) -> None:
    """The rule's finding carries one evidence item per step and names the chain."""
    from agents.rules.risk_review import internet_to_node

    inv = load(FIXTURES / "risk_review.internet-to-node" / "fail_privileged_behind_lb.yaml")
    (finding,) = list(internet_to_node.evaluate(facts_for(Phase.RISK_REVIEW, inv)))
    assert ["internet", "Service/shop/web", "Deployment/shop/web"] == \
        [e.resource for e in finding.evidence][:3]
    assert "controls.privileged-container@Deployment/shop/web#web" in finding.description
    assert 5 == finding.impact


def test_false_positive_breaks_the_path_in_review(load: Callable[..., Inventory]) -> None:
    """A chained finding a human marked false positive no longer carries a path."""
    from agents.reviewer.review import review
    from workflow.domain.threat_model import FindingStatus

    inv = load(FIXTURES / "risk_review.internet-to-node" / "fail_privileged_behind_lb.yaml")
    found = catalogue_findings(inv)
    marked = [f.model_copy(update={"status": FindingStatus.FALSE_POSITIVE})
              if f.rule == "controls.privileged-container" else f for f in found]
    assert any("internet-to-node" in p.id for p in review(Facts(inv), found).attack_paths)
    assert [] == [p for p in review(Facts(inv), marked).attack_paths
                  if "internet-to-node" in p.id]
