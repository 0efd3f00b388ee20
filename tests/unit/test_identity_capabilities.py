"""agents/facts/identity.py: RBAC capabilities as the API server decides them."""

from __future__ import annotations

import pytest

from agents.facts.identity import capabilities_of
from workflow.domain.rbac import Grant, PolicyRule


def _grant(scope: str = "cluster", *, groups: tuple[str, ...] = ("",),
           resources: tuple[str, ...] = (), verbs: tuple[str, ...] = (),
           names: tuple[str, ...] = ()) -> Grant:
    return Grant(subject="ServiceAccount/ops/robot", role="ClusterRole/r", binding="B/b",
                 scope=scope, rule=PolicyRule(api_groups=groups, resources=resources,
                                              verbs=verbs, resource_names=names))


RBAC = ("rbac.authorization.k8s.io",)
CSR = ("certificates.k8s.io",)


@pytest.mark.parametrize(("grants", "keys"), [
    pytest.param([_grant(groups=RBAC, resources=("roles", "rolebindings"),
                         verbs=("create", "update"))], {"rbac-write"},
                 id="RBAC writes alone grant no more than held"),
    pytest.param([_grant(groups=RBAC, resources=("clusterroles",), verbs=("bind",))], set(),
                 id="bind without writes of bindings"),
    pytest.param([_grant(groups=RBAC, resources=("clusterroles",), verbs=("bind",)),
                  _grant(groups=RBAC, resources=("clusterrolebindings",), verbs=("create",))],
                 {"bind", "rbac-write"}, id="bind with writes of bindings"),
    pytest.param([_grant("shop", groups=RBAC, resources=("roles",), verbs=("escalate",)),
                  _grant(groups=RBAC, resources=("roles",), verbs=("update",))],
                 {"escalate", "rbac-write"}, id="escalate with a cluster-wide write of roles"),
    pytest.param([_grant(groups=CSR, resources=("certificatesigningrequests/approval",),
                         verbs=("update",))], set(), id="approval updates without a signer"),
    pytest.param([_grant(groups=CSR, resources=("certificatesigningrequests/approval",),
                         verbs=("update",)),
                  _grant(groups=CSR, resources=("signers",), verbs=("approve",),
                         names=("kubernetes.io/kube-apiserver-client",))],
                 {"csr-approve"}, id="approval updates and approve on a signer"),
    pytest.param([_grant(resources=("configmaps", "services", "endpoints"),
                         verbs=("patch",))],
                 {"configmaps-write", "services-write", "endpoints-write"},
                 id="configuration and traffic writes"),
    pytest.param([_grant(resources=("pods/portforward", "persistentvolumes", "events"),
                         verbs=("create", "delete"))],
                 {"pods-portforward", "pv-create", "events-delete"},
                 id="port-forward, PersistentVolumes, Events"),
    pytest.param([_grant(groups=("admissionregistration.k8s.io",),
                         resources=("validatingwebhookconfigurations",), verbs=("delete",))],
                 {"webhook-delete"}, id="webhook deletion"),
])
def test_capabilities(grants: list[Grant], keys: set[str]) -> None:
    """Each ability is held exactly when the API server would allow it."""
    assert keys == {c.key for c in capabilities_of(grants)}


def test_resource_names_narrow_the_ability() -> None:
    """A grant narrowed by resourceNames gives the ability over those objects only."""
    caps = capabilities_of([_grant(resources=("secrets",), verbs=("get",), names=("a", "b"))])
    assert [("secrets-read", ("a", "b"))] == [(c.key, c.names) for c in caps]
