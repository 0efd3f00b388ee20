"""Paths the model proposes: kept only as chains of the graph's own vertices and steps."""

from __future__ import annotations

from agents.attack_graph import analyse
from agents.facts.derived import Facts
from agents.reviewer.review import review
from tests.corpus_paths import REPO
from tests.unit.rules.chained import catalogue_findings, facts_for
from workflow.domain.inputs import load_inputs
from workflow.domain.settings import Settings
from workflow.domain.threat_model import Phase

PAYMENTS = REPO / "examples" / "payments" / "manifests"
CLOUD = "CloudIdentity/arn:aws:iam::111122223333:role/payments-api"
THROUGH_INGRESS = {
    "vertices": ["internet", "Ingress/payments/payments-admin", "Service/payments/payments-api",
                 "Deployment/payments/payments-api", CLOUD],
    "attacks": ["ROUTE", "ROUTE", "ENDPOINT_EXPLOIT", "IDENTITY_ASSUME"],
    "rationale": "the admin host reaches the same pods"}


def _facts(settings: Settings) -> Facts:
    return facts_for(Phase.RISK_REVIEW, load_inputs([PAYMENTS], settings=settings).inventory)


def test_a_chain_of_the_graph_is_kept_as_a_model_path(offline_settings: Settings) -> None:
    """The Ingress route to the cloud role is a real chain the search did not keep."""
    analysis = analyse(_facts(offline_settings), proposals=[THROUGH_INGRESS])
    [path] = [p for p in analysis.paths if p.source == "model"]
    assert f"internet=>{CLOUD}#model-1" == path.id
    assert ["ROUTE", "ROUTE", "ENDPOINT_EXPLOIT", "IDENTITY_ASSUME"] == [
        h.attack for h in path.hops]
    assert (1, 0) == (analysis.summary.model_proposed, analysis.summary.model_dropped)


def test_chains_the_graph_does_not_hold_are_dropped_and_counted(
        offline_settings: Settings) -> None:
    """A wrong attack type, an unknown vertex, an end that is no target, a known path: all
    dropped, nothing kept."""
    wrong_attack = {**THROUGH_INGRESS, "attacks": ["ROUTE", "ROUTE", "POD_EXEC",
                                                   "IDENTITY_ASSUME"]}
    unknown = {**THROUGH_INGRESS, "vertices": ["internet", "Ingress/x/y",
                                               *THROUGH_INGRESS["vertices"][2:]]}
    no_target = {"vertices": ["internet", "Service/payments/payments-api"],
                 "attacks": ["ROUTE"], "rationale": "r"}
    known = {"vertices": ["Deployment/payments/payments-api", CLOUD],
             "attacks": ["IDENTITY_ASSUME"], "rationale": "r"}
    analysis = analyse(_facts(offline_settings),
                       proposals=[wrong_attack, unknown, no_target, known])
    assert [] == [p.id for p in analysis.paths if p.source == "model"]
    assert (4, 4) == (analysis.summary.model_proposed, analysis.summary.model_dropped)


def test_the_reviewer_keeps_the_model_paths_of_the_risk_review(
        offline_settings: Settings) -> None:
    """Proposals handed to the reviewer end up in its paths, marked as the model's."""
    inv = load_inputs([PAYMENTS], settings=offline_settings).inventory
    result = review(Facts(inv), catalogue_findings(inv), model_paths=[THROUGH_INGRESS])
    assert ["model"] == [p.source for p in result.attack_paths if p.id.endswith("#model-1")]
    assert 1 == result.attack_graph.summary.model_proposed
