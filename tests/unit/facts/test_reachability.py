"""Network reachability: NetworkPolicy semantics through the label and namespace indices."""

from __future__ import annotations

from pathlib import Path

from agents.facts.reachability import Endpoint, find_reachability
from tests.unit.facts.manifests import deployment, inventory, policy
from workflow.domain.settings import Settings

A, B, C = "Deployment/shop/a", "Deployment/shop/b", "Deployment/shop/c"
MAIN = (Endpoint(8080, "main"),)


def test_without_policies_every_pod_reaches_every_port(tmp_path: Path,
                                                       offline_settings: Settings) -> None:
    """No policy: a workload reaches another's declared port."""
    reach = find_reachability(inventory(tmp_path, offline_settings, deployment("a"),
                                        deployment("b")))
    assert MAIN == reach.can_reach(A, B)
    assert reach.ingress_open(B) and reach.egress_open(A)


def test_a_workload_without_ports_is_no_endpoint(tmp_path: Path,
                                                 offline_settings: Settings) -> None:
    """A workload that declares no port and no Service selects is not reachable."""
    reach = find_reachability(inventory(tmp_path, offline_settings, deployment("a"),
                                        deployment("b", port=None)))
    assert () == reach.can_reach(A, B)


def test_default_deny_isolates_every_pod_of_its_namespace(tmp_path: Path,
                                                          offline_settings: Settings) -> None:
    """An empty podSelector with no ingress rule admits nothing."""
    reach = find_reachability(inventory(
        tmp_path, offline_settings, deployment("a"), deployment("b"),
        policy("deny", podSelector={}, policyTypes=["Ingress"])))
    assert () == reach.can_reach(A, B)
    assert [] == reach.ingress[B]


def test_pod_selector_and_ports_admit_only_the_named_callers(
        tmp_path: Path, offline_settings: Settings) -> None:
    """A rule admits its peers on its ports; others are refused; a named port matches."""
    reach = find_reachability(inventory(
        tmp_path, offline_settings, deployment("a"), deployment("b"), deployment("c"),
        policy("b-from-a", podSelector={"matchLabels": {"app": "b"}},
               ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "a"}}}],
                         "ports": [{"port": "main"}]}])))
    assert MAIN == reach.can_reach(A, B)
    assert () == reach.can_reach(C, B)
    assert MAIN == reach.can_reach(C, A), "a is not selected by the policy"


def test_a_rule_on_another_port_admits_nothing(tmp_path: Path,
                                               offline_settings: Settings) -> None:
    """Ports that the target does not listen on open nothing."""
    reach = find_reachability(inventory(
        tmp_path, offline_settings, deployment("a"), deployment("b"),
        policy("b-from-a", podSelector={"matchLabels": {"app": "b"}},
               ingress=[{"from": [{"podSelector": {}}], "ports": [{"port": 5432}]}])))
    assert () == reach.can_reach(A, B)


def test_policies_of_other_namespaces_never_apply(tmp_path: Path,
                                                  offline_settings: Settings) -> None:
    """A default deny in another namespace does not isolate this one's pods."""
    reach = find_reachability(inventory(
        tmp_path, offline_settings, deployment("a"), deployment("b"),
        policy("deny", "other", podSelector={}, policyTypes=["Ingress"])))
    assert MAIN == reach.can_reach(A, B)


def test_namespace_selector_admits_pods_of_labelled_namespaces(
        tmp_path: Path, offline_settings: Settings) -> None:
    """A namespaceSelector peer admits the pods of matching namespaces only."""
    ns = {"apiVersion": "v1", "kind": "Namespace",
          "metadata": {"name": "ops", "labels": {"team": "ops"}}}
    reach = find_reachability(inventory(
        tmp_path, offline_settings, ns, deployment("mon", "ops"), deployment("x", "dev"),
        deployment("b"),
        policy("b-from-ops", podSelector={"matchLabels": {"app": "b"}},
               ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "ops"}}}]}])))
    assert MAIN == reach.can_reach("Deployment/ops/mon", B)
    assert () == reach.can_reach("Deployment/dev/x", B)


def test_egress_rules_restrict_the_source(tmp_path: Path, offline_settings: Settings) -> None:
    """An egress policy lets its pods reach only the destinations its rules name."""
    reach = find_reachability(inventory(
        tmp_path, offline_settings, deployment("a"), deployment("b"), deployment("c"),
        policy("a-to-b", podSelector={"matchLabels": {"app": "a"}}, policyTypes=["Egress"],
               egress=[{"to": [{"podSelector": {"matchLabels": {"app": "b"}}}]}])))
    assert MAIN == reach.can_reach(A, B)
    assert () == reach.can_reach(A, C)


def test_ip_block_over_private_ranges_admits_pods_and_public_space_the_internet(
        tmp_path: Path, offline_settings: Settings) -> None:
    """0.0.0.0/0 admits every pod and external address; a public /24 only the latter."""
    reach = find_reachability(inventory(
        tmp_path, offline_settings, deployment("a"), deployment("b"), deployment("c"),
        policy("b-any", podSelector={"matchLabels": {"app": "b"}},
               ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]),
        policy("c-office", podSelector={"matchLabels": {"app": "c"}},
               ingress=[{"from": [{"ipBlock": {"cidr": "203.0.113.0/24"}}]}])))
    b_rule, c_rule = reach.ingress[B][0], reach.ingress[C][0]
    assert (True, True) == (b_rule.any_pod, b_rule.external)
    assert (False, True) == (c_rule.any_pod, c_rule.external)
    assert MAIN == reach.can_reach(A, B)
    assert () == reach.can_reach(A, C)


def test_host_network_pods_are_not_governed(tmp_path: Path, offline_settings: Settings) -> None:
    """A hostNetwork pod selected by a default deny still admits every source."""
    reach = find_reachability(inventory(
        tmp_path, offline_settings, deployment("a"), deployment("b", hostNetwork=True),
        policy("deny", podSelector={}, policyTypes=["Ingress"])))
    assert reach.ingress_open(B)
    assert MAIN == reach.can_reach(A, B)


def test_service_target_ports_are_endpoints(tmp_path: Path, offline_settings: Settings) -> None:
    """A Service's targetPort makes a port-less workload an endpoint."""
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b", "namespace": "shop"},
           "spec": {"selector": {"app": "b"}, "ports": [{"port": 80, "targetPort": 9000}]}}
    reach = find_reachability(inventory(tmp_path, offline_settings, deployment("a"),
                                        deployment("b", port=None), svc))
    assert (Endpoint(9000),) == reach.can_reach(A, B)
