"""The inventory: selection, routing, RBAC resolution, edges and source lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflow.domain.inputs import load_inputs
from workflow.domain.inventory import Inventory, build_inventory
from workflow.domain.rbac import BUILTIN_CLUSTER_ROLES
from workflow.domain.resources import Edge, Resource, SourceRef, pointer, resource_id
from workflow.domain.selectors import matches_selector, selector_is_empty
from workflow.domain.settings import Settings

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "inventory" / "app.yaml"


@pytest.fixture
def inv(offline_settings: Settings) -> Inventory:
    """The two-namespace fixture application."""
    return load_inputs([FIXTURE], settings=offline_settings).inventory


def test_resource_ids() -> None:
    """Namespaced ids are Kind/ns/name, cluster-scoped ids Kind/name."""
    assert "Service/shop/web" == resource_id("Service", "web", "shop")
    assert "ClusterRole/view" == resource_id("ClusterRole", "view", None)


def test_pointer_escapes() -> None:
    """JSON pointers escape ``~`` and ``/`` (RFC 6901)."""
    assert "/metadata/annotations/a~1b~0c/0" == pointer("metadata", "annotations", "a/b~c", 0)


def test_namespaces(inv: Inventory) -> None:
    """Every namespace holding a resource is listed."""
    assert ("team-a", "team-b") == inv.namespaces


def test_workloads_and_service_accounts(inv: Inventory) -> None:
    """Workloads know their pod spec, containers and service account."""
    found = {wl.id: (wl.service_account_id, [c.name for c in wl.pod.containers])
             for wl in inv.workloads}
    assert {"Deployment/team-a/web": ("ServiceAccount/team-a/web", ["web"]),
            "Deployment/team-a/worker": ("ServiceAccount/team-a/default", ["worker"]),
            "Deployment/team-b/web": ("ServiceAccount/team-b/default", ["web"])} == found


def test_service_selects_only_its_namespace(inv: Inventory) -> None:
    """A Service selects matching pods of its own namespace; no selector selects nothing."""
    targets = {svc.id: svc.targets for svc in inv.services}
    assert {"Service/team-a/headless": (),
            "Service/team-a/web": ("Deployment/team-a/web",)} == targets


def test_network_policy_selection_is_namespace_aware(inv: Inventory) -> None:
    """A policy never selects pods of another namespace; an empty podSelector selects all."""
    targets = {pol.id: pol.targets for pol in inv.network_policies}
    assert {"NetworkPolicy/team-a/front-only": ("Deployment/team-a/web",),
            "NetworkPolicy/team-b/default-deny": ("Deployment/team-b/web",)} == targets


def test_network_policy_defaulting(inv: Inventory) -> None:
    """policyTypes default like the API server: Egress only when egress rules exist."""
    found = {pol.id: (pol.policy_types, pol.selects_all) for pol in inv.network_policies}
    assert {"NetworkPolicy/team-a/front-only": (("Ingress",), False),
            "NetworkPolicy/team-b/default-deny": (("Ingress", "Egress"), True)} == found


def test_ingress_backends(inv: Inventory) -> None:
    """Default backend and rule paths route to Services of the Ingress's namespace."""
    (ingress,) = inv.ingresses
    found = [(b.host, b.path, b.service, b.port, b.pointer) for b in ingress.backends]
    assert [(None, None, "Service/team-a/web", "80", "/spec/defaultBackend"),
            ("shop.example.org", "/api", "Service/team-a/web", "http",
             "/spec/rules/0/http/paths/0/backend")] == found
    assert (True, ("shop.example.org",)) == (ingress.has_tls, ingress.tls_hosts)


def test_legacy_ingress_backend(offline_settings: Settings, tmp_path: Path) -> None:
    """The extensions/v1beta1 serviceName/servicePort form is understood."""
    path = tmp_path / "legacy.yaml"
    path.write_text("apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: old}\n"
                    "spec:\n  backend: {serviceName: svc, servicePort: 8080}\n",
                    encoding="utf-8")
    (ingress,) = load_inputs([path], settings=offline_settings).inventory.ingresses
    assert [("Service/default/svc", "8080")] == [(b.service, b.port) for b in ingress.backends]


def test_rbac_aggregation(inv: Inventory) -> None:
    """An aggregated ClusterRole holds the rules of every ClusterRole its selectors match."""
    role = inv.roles["ClusterRole/monitoring"]
    assert ("ClusterRole/monitoring-nodes", "ClusterRole/monitoring-pods") == role.aggregated_from
    assert [(("nodes",), ("get",)), (("pods",), ("get", "list"))] == [
        (r.resources, r.verbs) for r in role.rules]


def test_builtin_cluster_admin_is_known(inv: Inventory) -> None:
    """Built-in ClusterRoles exist without being declared, and are marked built-in."""
    admin = inv.roles["ClusterRole/cluster-admin"]
    assert admin.builtin
    assert BUILTIN_CLUSTER_ROLES["cluster-admin"] == admin


def test_grants_of_a_service_account(inv: Inventory) -> None:
    """grants_of lists every rule a subject holds, with role, binding and scope."""
    found = sorted((g.role, g.binding, g.scope, g.rule.resources)
                   for g in inv.grants_of("ServiceAccount/team-a/web"))
    assert [("ClusterRole/monitoring", "ClusterRoleBinding/web-monitoring", "cluster",
             ("nodes",)),
            ("ClusterRole/monitoring", "ClusterRoleBinding/web-monitoring", "cluster",
             ("pods",)),
            ("Role/team-a/read-config", "RoleBinding/team-a/web-read-config", "team-a",
             ("configmaps",))] == found


def test_rolebinding_to_cluster_admin_is_namespace_scoped(inv: Inventory) -> None:
    """A RoleBinding to cluster-admin grants it in the binding's namespace only."""
    scopes = {(g.role, g.scope) for g in inv.grants_of("ServiceAccount/team-b/default")}
    assert {("ClusterRole/cluster-admin", "team-b")} == scopes


def test_group_subjects(inv: Inventory) -> None:
    """Groups are subjects too, as ``Group/name``."""
    assert {"ClusterRole/cluster-admin"} == {g.role for g in inv.grants_of("Group/ops")}


def test_grants_of_unknown_subject(inv: Inventory) -> None:
    """A subject with no binding holds nothing."""
    assert () == inv.grants_of("ServiceAccount/team-a/nobody")


def test_workloads_running_as(inv: Inventory) -> None:
    """The workloads whose pods run as a service account."""
    assert ["Deployment/team-b/web"] == [
        wl.id for wl in inv.workloads_running_as("ServiceAccount/team-b/default")]


def test_edges(inv: Inventory) -> None:
    """Relations cover exposure, routing, policy selection, RBAC, identity and mounts."""
    edges = set(inv.edges)
    expected = {
        Edge(source="Service/team-a/web", target="Deployment/team-a/web", kind="exposes"),
        Edge(source="Ingress/team-a/public", target="Service/team-a/web", kind="routes"),
        Edge(source="NetworkPolicy/team-a/front-only", target="Deployment/team-a/web",
             kind="selects"),
        Edge(source="NetworkPolicy/team-b/default-deny", target="Deployment/team-b/web",
             kind="selects"),
        Edge(source="ClusterRoleBinding/web-monitoring", target="ClusterRole/monitoring",
             kind="grants"),
        Edge(source="ClusterRoleBinding/web-monitoring", target="ServiceAccount/team-a/web",
             kind="binds"),
        Edge(source="RoleBinding/team-a/web-read-config", target="Role/team-a/read-config",
             kind="grants"),
        Edge(source="RoleBinding/team-a/web-read-config", target="ServiceAccount/team-a/web",
             kind="binds"),
        Edge(source="RoleBinding/team-b/ops-admin", target="ClusterRole/cluster-admin",
             kind="grants"),
        Edge(source="RoleBinding/team-b/ops-admin", target="ServiceAccount/team-b/default",
             kind="binds"),
        Edge(source="RoleBinding/team-b/ops-admin", target="Group/ops", kind="binds"),
        Edge(source="Deployment/team-a/web", target="ServiceAccount/team-a/web", kind="runs-as"),
        Edge(source="Deployment/team-a/web", target="Secret/team-a/web-creds", kind="mounts"),
        Edge(source="Deployment/team-a/web", target="ConfigMap/team-a/web-conf", kind="mounts"),
        Edge(source="Deployment/team-a/worker", target="ServiceAccount/team-a/default",
             kind="runs-as"),
        Edge(source="Deployment/team-b/web", target="ServiceAccount/team-b/default",
             kind="runs-as"),
    }
    assert expected == edges


def test_line_of(inv: Inventory) -> None:
    """line_of finds a pointer's line, else its nearest ancestor's, else the resource's."""
    web = inv.get("Deployment/team-a/web")
    assert web is not None
    assert 11 == web.line_of("/spec/template/spec/containers/0/image")
    assert 10 == web.line_of("/spec/template/spec/serviceAccountName")
    assert 10 == web.line_of("/spec/template/spec/hostNetwork")
    assert web.source.line == web.line_of("/nothing/here")


def test_get_follows_pointers(inv: Inventory) -> None:
    """Resource.get reads a JSON pointer, None where it leads nowhere."""
    web = inv.get("Deployment/team-a/web")
    assert web is not None
    assert "nginx:1.27" == web.get("/spec/template/spec/containers/0/image")
    assert web.get("/spec/template/spec/containers/5/image") is None


def test_later_resource_with_same_id_wins() -> None:
    """build_inventory keeps the last resource of an id."""
    def res(marker: str) -> Resource:
        return Resource(id="ConfigMap/default/c", kind="ConfigMap", api_version="v1", name="c",
                        namespace="default", source=SourceRef(file=marker), raw={})

    inv = build_inventory([res("first.yaml"), res("second.yaml")])
    assert "second.yaml" == inv.resources["ConfigMap/default/c"].source.file


@pytest.mark.parametrize(("selector", "labels", "expected"), [
    ({"matchLabels": {"app": "web"}}, {"app": "web", "x": "y"}, True),
    ({"matchLabels": {"app": "web"}}, {"app": "api"}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]},
     {"tier": "b"}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]},
     {"tier": "a"}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "Bogus"}]}, {"tier": "a"}, False),
    ({}, {"anything": "x"}, True),
])
def test_label_selectors(selector: dict[str, object], labels: dict[str, str],
                         expected: bool) -> None:
    """matchLabels and matchExpressions behave like Kubernetes."""
    assert expected == matches_selector(selector, labels)


def test_empty_selector() -> None:
    """Missing and empty selectors are empty."""
    assert [True, True, True, False] == [
        selector_is_empty(None), selector_is_empty({}), selector_is_empty({"matchLabels": {}}),
        selector_is_empty({"matchLabels": {"a": "b"}})]


def test_service_selection_needs_every_label_and_its_namespace(offline_settings: Settings,
                                                               tmp_path: Path) -> None:
    """The label index narrows candidates; every required label is still checked, in order."""
    docs = []
    for ns, name, labels in [("a", "web", {"app": "shop", "tier": "web"}),
                             ("a", "api", {"app": "shop", "tier": "api"}),
                             ("a", "web2", {"app": "shop", "tier": "web"}),
                             ("b", "web", {"app": "shop", "tier": "web"})]:
        label_text = ", ".join(f"{k}: {v}" for k, v in labels.items())
        docs.append(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, "
                    f"labels: {{{label_text}}}}}\nspec: {{containers: [{{name: c, image: i}}]}}")
    docs.append("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: a}\n"
                "spec: {selector: {app: shop, tier: web}}")
    docs.append("apiVersion: v1\nkind: Service\nmetadata: {name: none, namespace: a}\n"
                "spec: {selector: {app: shop, tier: db}}")
    (tmp_path / "app.yaml").write_text("\n---\n".join(docs))
    services = {s.id: s.targets for s in load_inputs([tmp_path],
                                                    settings=offline_settings).inventory.services}
    assert ("Pod/a/web", "Pod/a/web2") == services["Service/a/web"]
    assert () == services["Service/a/none"]
