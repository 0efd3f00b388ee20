"""workflow/domain/cilium.py: Cilium policies in NetworkPolicy terms, with Cilium's semantics."""

from __future__ import annotations

from typing import Any

import pytest

from workflow.domain.cilium import cilium_specs


def _spec(spec: dict[str, Any], kind: str = "CiliumNetworkPolicy") -> Any:
    return next(cilium_specs({"kind": kind, "spec": {"endpointSelector": {}, **spec}}))


@pytest.mark.parametrize(("rule", "translated"), [
    pytest.param({"fromEndpoints": [{}]}, {"from": [{"podSelector": {}}]},
                 id="every pod of the namespace"),
    pytest.param({"fromEndpoints": [{"matchLabels": {"k8s:app": "web",
                                                     "k8s:io.kubernetes.pod.namespace": "a"}}]},
                 {"from": [{"podSelector": {"matchLabels": {"app": "web"}},
                            "namespaceSelector": {"matchLabels": {
                                "kubernetes.io/metadata.name": "a"}}}]},
                 id="a label in a named namespace"),
    pytest.param({"fromEntities": ["world"]}, {"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]},
                 id="the world"),
    pytest.param({"fromEntities": ["cluster"]},
                 {"from": [{"namespaceSelector": {}, "podSelector": {}}]}, id="the cluster"),
    pytest.param({"fromEntities": ["host"]}, {"from": [{"entity": "host"}]},
                 id="the node only"),
    pytest.param({"fromCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}]},
                 {"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]},
                 id="an address range"),
    pytest.param({"toPorts": [{"ports": [{"port": "9090", "protocol": "TCP"}]}]},
                 {"ports": [{"port": 9090, "protocol": "TCP"}]}, id="ports from anywhere"),
])
def test_ingress_rule_translation(rule: dict[str, Any], translated: dict[str, Any]) -> None:
    """Each Cilium peer becomes the NetworkPolicy peer with the same reach."""
    spec = _spec({"ingress": [rule]})
    assert ("Ingress",) == spec.policy_types
    assert [translated] == spec.ingress
    assert ["/spec/ingress/0"] == spec.ingress_paths


def test_empty_rule_is_a_default_deny() -> None:
    """ingress: [{}] selects the endpoints into default deny and allows nothing."""
    spec = _spec({"ingress": [{}]})
    assert (("Ingress",), []) == (spec.policy_types, spec.ingress)


@pytest.mark.parametrize("spec", [
    {"ingressDeny": [{"fromEntities": ["world"]}]},
    {"enableDefaultDeny": {"ingress": False}, "ingress": [{}]},
    {"ingress": []},
])
def test_what_does_not_isolate(spec: dict[str, Any]) -> None:
    """Deny rules alone, a turned-off default deny, an empty section: no ingress isolation."""
    assert () == _spec(spec).policy_types


def test_clusterwide_endpoints_reach_every_namespace() -> None:
    """In a clusterwide policy, fromEndpoints: [{}] is every pod of the cluster."""
    spec = _spec({"ingress": [{"fromEndpoints": [{}]}]}, "CiliumClusterwideNetworkPolicy")
    assert [{"from": [{"podSelector": {}, "namespaceSelector": {}}]}] == spec.ingress


def test_host_policies_are_left_out() -> None:
    """A nodeSelector policy selects nodes, not pods."""
    assert [] == list(cilium_specs({"kind": "CiliumClusterwideNetworkPolicy",
                                    "spec": {"nodeSelector": {}, "ingress": [{}]}}))


def test_specs_list_keeps_pointers() -> None:
    """A policy with specs gives one view per spec, with its pointer."""
    specs = list(cilium_specs({"kind": "CiliumNetworkPolicy", "specs": [
        {"endpointSelector": {}, "ingress": [{}]},
        {"endpointSelector": {}, "egress": [{"toEntities": ["world"]}]}]}))
    assert ["/specs/0", "/specs/1"] == [s.pointer for s in specs]
    assert ["/specs/1/egress/0"] == specs[1].egress_paths
