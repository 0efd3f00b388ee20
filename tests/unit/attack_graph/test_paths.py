"""Attack paths: search, precision, what-if, choke points, bounds, stability, the model form."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.attack_graph import AttackGraph, analyse, analyse_graph
from agents.attack_graph.build import build_graph
from agents.attack_graph.kinds import AttackType
from agents.attack_graph.paths import dominated, find_candidates
from agents.facts.derived import Facts
from tests.corpus_paths import CORPUS, REPO
from tests.unit.rules.chained import facts_for
from workflow.domain.inputs import load_inputs
from workflow.domain.settings import Settings
from workflow.domain.threat_model import Phase

PAYMENTS = REPO / "examples" / "payments" / "manifests"
POD_EXEC = "identity.pod-exec@ServiceAccount/payments/settlement#cluster"


def _facts(path: Path, settings: Settings) -> Facts:
    return facts_for(Phase.RISK_REVIEW, load_inputs([path], settings=settings).inventory)


def test_payments_paths_reach_every_kind_of_target_from_every_kind_of_origin(
        offline_settings: Settings) -> None:
    """The example's paths start on the internet, a workload, a service account and a node."""
    analysis = analyse(_facts(PAYMENTS, offline_settings))
    assert {"internet", "workload", "serviceaccount", "node"} == set(
        analysis.summary.by_origin)
    assert {"cloud", "data", "node", "secrets"} == set(analysis.summary.by_target)
    best = analysis.paths[0]
    assert ("internet=>StatefulSet/payments/payments-db", "critical") == (
        best.id, best.severity.value)
    assert ["internet", "Service/payments/payments-api", "Deployment/payments/payments-api",
            "StatefulSet/payments/payments-db"] == [best.origin, *(h.to for h in best.hops)]


def test_what_if_drops_the_steps_a_fixed_finding_required(offline_settings: Settings) -> None:
    """Recomputed without the exec finding, no path takes an exec step of that grant."""
    facts = _facts(PAYMENTS, offline_settings)
    before = analyse(facts)
    after = analyse_graph(before.graph, {f.id: f for f in facts.findings}, without=[POD_EXEC])
    assert any(POD_EXEC in p.findings for p in before.paths)
    assert [] == [p.id for p in after.paths if POD_EXEC in p.findings]
    assert after.summary.candidates < before.summary.candidates


def test_choke_points_rank_fixes_by_the_paths_they_cut(offline_settings: Settings) -> None:
    """The top choke point cuts paths; the top fixes cut most of the critical paths."""
    analysis = analyse(_facts(PAYMENTS, offline_settings))
    top = analysis.choke_points[0]
    assert top.paths > 0 and top.recommendation
    assert sorted(analysis.choke_points, key=lambda c: -c.weight) == list(analysis.choke_points)
    assert "critical" == analysis.summary.top_fixes_band
    assert 0.5 <= analysis.summary.top_fixes_share <= 1.0
    assert 3 >= len(analysis.summary.top_fixes)


def test_the_total_is_bounded_and_the_rest_counted(offline_settings: Settings) -> None:
    """With a bound of three, three paths are kept and the others counted as omitted."""
    facts = _facts(PAYMENTS, offline_settings)
    analysis = analyse_graph(build_graph(facts), {}, limit=3)
    assert 3 == len(analysis.paths)
    assert analysis.summary.candidates - 3 == analysis.summary.omitted
    assert [p.id for p in analysis.paths] == [p.id for p in analyse(facts).paths][:3]


def test_a_longer_path_with_the_same_conditions_is_dominated(
        offline_settings: Settings) -> None:
    """Same origin and target, more steps and a superset of conditions: dominated."""
    graph = build_graph(_facts(PAYMENTS, offline_settings))
    found = find_candidates(graph, graph.search_graph())
    short = next(c for c in found if c.id == "CronJob/payments/settlement=>Node/any")
    longer = type(short)(**{**short.__dict__, "steps": short.steps + short.steps[-1:]})
    assert dominated(longer, short)
    assert not dominated(short, longer)


def test_the_graph_survives_the_model_round_trip(offline_settings: Settings) -> None:
    """A graph read back from the threat model gives the same paths."""
    analysis = analyse(_facts(PAYMENTS, offline_settings))
    again = analyse_graph(AttackGraph.from_model(analysis.graph_model()), {})
    assert [p.model_dump() for p in analysis.paths] == [p.model_dump() for p in again.paths]


def test_paths_are_deterministic(offline_settings: Settings) -> None:
    """Two analyses of the same inputs give the same graph and paths."""
    first = analyse(_facts(PAYMENTS, offline_settings))
    second = analyse(_facts(PAYMENTS, offline_settings))
    assert first.graph_model() == second.graph_model()
    assert first.paths == second.paths


def test_a_weakening_control_is_named_on_the_hop(tmp_path: Path,
                                                 offline_settings: Settings) -> None:
    """PSA in audit mode lowers the escape's likelihood and the hop says so."""
    text = (REPO / "tests" / "unit" / "attack_graph" / "fixtures" / "CE_PRIV_MOUNT"
            / "enabled_privileged.yaml").read_text(encoding="utf-8")
    path = tmp_path / "audit.yaml"
    path.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: t\n  labels:\n"
                    "    pod-security.kubernetes.io/audit: baseline\n---\n" + text,
                    encoding="utf-8")
    analysis = analyse(_facts(path, offline_settings))
    escapes = [s for s in analysis.graph.steps() if s.attack is AttackType.CE_PRIV_MOUNT]
    assert [3] == [s.likelihood for s in escapes]
    hops = [h for p in analysis.paths for h in p.hops if h.to == "Node/any"]
    assert hops and all(h.controls == ("Pod Security Admission audit=baseline on namespace t",)
                        for h in hops)


@pytest.mark.corpus
@pytest.mark.parametrize("app", ["bookinfo", "guestbook", "ingress-nginx", "node-agents",
                                 "online-boutique", "online-boutique-helm-hardened",
                                 "sock-shop"])
def test_no_workload_path_starts_without_a_route(app: str, offline_settings: Settings) -> None:
    """Precision: a workload's path opens with a step it can take: its own container or
    token, or a connection its NetworkPolicies allow to a port the target listens on."""
    folder = CORPUS / "apps" / app
    if not folder.is_dir():
        pytest.skip("shared corpus not present")
    facts = _facts(folder, offline_settings)
    analysis = analyse(facts)
    reach = facts.reachability
    for item in analysis.candidates:
        if item.origin_kind != "workload":
            continue
        first = item.steps[0]
        assert first.source == item.origin
        if first.attack is AttackType.ENDPOINT_EXPLOIT:
            kinds = {v.id: v.kind.value for v in analysis.graph.vertices()}
            end = next(s.target for s in item.steps if kinds[s.target] == "workload")
            assert reach.can_reach(item.origin, end), item.id
        else:
            assert first.attack in {AttackType.CONTAINER_ATTACH, AttackType.TOKEN_STEAL,
                                    AttackType.IDENTITY_ASSUME}, item.id


@pytest.mark.corpus
def test_hardened_boutique_reaches_no_node_and_not_the_cluster(
        offline_settings: Settings) -> None:
    """With NetworkPolicies on and restricted pods, no path ends on a node or the cluster
    (paths that start on a node are the node origin, not a way there)."""
    folder = CORPUS / "apps" / "online-boutique-helm-hardened"
    if not folder.is_dir():
        pytest.skip("shared corpus not present")
    analysis = analyse(_facts(folder, offline_settings))
    assert [] == [c.id for c in analysis.candidates if c.target_kind in {"node", "cluster"}
                  and c.origin_kind != "node"]
