"""The API side of the graph: subjects, their bindings, and what their rights reach.

Every subject of a binding (service account, user, group) leads to its bindings and their roles
(PERMISSION_DISCOVER). Each dangerous right a subject holds in a scope (a namespace, or the
cluster) is a step from the subject, naming the binding that grants it and requiring the
identity finding that reports it: cluster-admin rights reach the cluster (or the namespace's
control), role binding and escalation the same, secret reads the Secrets of the scope, exec and
patch its pods, pod creation its nodes (unless admission stops privileged pods there) and its
service accounts, token requests its service accounts and their cloud identities; ConfigMaps
that control the cluster reach it, hostPath PersistentVolumes (with pod creation) the nodes,
port-forwarding and NetworkPolicy writes every port of the scope, Service and Endpoints writes
the scope's data stores. RBAC writes without bind or escalate are no step: Kubernetes refuses
a grant of more than the writer holds.

Scopes are shared vertices (``Pods/<ns>``, ``Ports/<ns>``, ``ServiceAccounts/<ns>``, ``*`` for
every namespace), so a right over many objects is one step, not one per object.
"""

from __future__ import annotations

from collections.abc import Iterable

from agents.attack_graph.build_pods import cloud_vertex, ensure_service_account
from agents.attack_graph.evidence import Evidence, fingerprint
from agents.attack_graph.graph import AttackGraph, Step, Vertex
from agents.attack_graph.kinds import ATTACKS, AttackType, VertexKind
from agents.facts.admission_controls import Guard
from agents.facts.classification import SENSITIVE_CLASSES
from agents.facts.derived import Facts
from agents.facts.identity import Capability, cloud_identity
from agents.facts.placement import pool_vertex
from agents.facts.workloads import data_store
from workflow.domain.resources import Resource

__all__ = ["add_rbac"]

#: The identity rule that reports each capability of a service account.
_SA_RULES: dict[str, str] = {
    "cluster-admin": "identity.cluster-admin", "secrets-read": "identity.secrets-read",
    "pods-exec": "identity.pod-exec", "pods-attach": "identity.pod-exec",
    "create-pods": "identity.create-workloads", "create-workloads": "identity.create-workloads",
    "escalate": "identity.escalation-verbs", "bind": "identity.escalation-verbs",
    "impersonate": "identity.escalation-verbs", "token-request": "identity.escalation-verbs",
    "csr-approve": "identity.escalation-verbs", "nodes-proxy": "identity.nodes-proxy",
    "webhook-write": "identity.webhook-write", "configmaps-write": "identity.configmap-write",
    "pv-create": "identity.persistent-volume-create",
    "pods-portforward": "identity.network-control",
    "networkpolicies-write": "identity.network-control",
    "services-write": "identity.network-control", "endpoints-write": "identity.network-control",
}
#: Rights over traffic and storage rather than over the API's own objects.
_TRAFFIC_AND_STORAGE = frozenset({"configmaps-write", "pv-create", "pods-portforward",
                                  "networkpolicies-write", "services-write",
                                  "endpoints-write"})
#: The capabilities identity.human-broad-rights reports for users and groups.
_HUMAN_BROAD = frozenset({"cluster-admin", "secrets-read", "escalate", "bind", "impersonate",
                          "webhook-write", "nodes-proxy", "pods-exec", "pods-attach",
                          "pods-portforward", "token-request", "csr-approve", "create-pods",
                          "create-workloads", "configmaps-write", "services-write",
                          "endpoints-write", "networkpolicies-write", "pv-create"})
#: ConfigMaps that control the cluster by name: EKS's IAM mapping and the cluster DNS.
_CLUSTER_MAPS = frozenset({"aws-auth", "coredns"})

_HUMAN_SYSTEM = frozenset({"system:masters", "system:anonymous", "system:unauthenticated",
                           "system:authenticated"})
#: Every way to escape that a created pod could use; admission must stop all of them.
_ESCAPES = (Guard.PRIVILEGED, Guard.HOST_PID, Guard.HOST_PATH)


def _backing(subject: str, key: str, scope: str, admin: set[str]) -> str | None:
    """The finding id that reports a capability, or None when no rule reports it."""
    kind, _, name = subject.partition("/")
    if kind == "ServiceAccount":
        rule = _SA_RULES.get(key)
    elif key in _HUMAN_BROAD and (not name.startswith("system:") or name in _HUMAN_SYSTEM):
        rule = "identity.human-broad-rights"
    else:
        return None
    if rule is None:
        return None
    if key != "cluster-admin" and (scope in admin or "cluster" in admin):
        admin_rule = "identity.cluster-admin" if kind == "ServiceAccount" else rule
        return fingerprint(admin_rule, subject, "cluster" if "cluster" in admin else scope)
    return fingerprint(rule, subject, scope)


class _Rbac:
    """Builds the RBAC steps of one graph (scopes are added on first use)."""

    def __init__(self, facts: Facts, graph: AttackGraph, ev: Evidence) -> None:
        self.facts, self.graph, self.ev = facts, graph, ev
        inv = facts.inventory
        self.namespaces = list(inv.namespaces)
        self.workloads: dict[str, list[str]] = {}
        for wl in inv.workloads:
            if wl.kind != "PodTemplate":
                self.workloads.setdefault(wl.namespace, []).append(wl.id)
        self.accounts: dict[str, set[str]] = {}
        for sa in [*(wl.service_account_id for wl in inv.workloads),
                   *(r.id for r in inv.of_kind("ServiceAccount")),
                   *(s.id for b in inv.bindings for s in b.subjects
                     if s.kind == "ServiceAccount")]:
            self.accounts.setdefault(sa.split("/")[1], set()).add(sa)
        self.discovered: set[tuple[str, str]] = set()
        self.token_secrets: dict[str, list[Resource]] = {}
        for res in inv.of_kind("Secret"):
            if res.raw.get("type") == "kubernetes.io/service-account-token":
                self.token_secrets.setdefault(res.namespace or "default", []).append(res)
        self.clouds: dict[str, list[str]] = {}
        for res in inv.of_kind("ServiceAccount"):
            found = cloud_identity(res)
            if found is not None and self.ev.has(fingerprint("identity.cloud-identity", res.id)):
                vertex = cloud_vertex(found[1])
                graph.add_vertex(Vertex(vertex, VertexKind.CLOUD, f"{found[2]} {found[1]}",
                                        target="cloud", impact=4))
                self.clouds.setdefault(res.namespace or "default", []).append(vertex)

    # ---- scope vertices -------------------------------------------------------------------
    def pods(self, scope: str) -> str:
        vertex = f"Pods/{'*' if scope == 'cluster' else scope}"
        if vertex not in self.graph:
            self.graph.add_vertex(Vertex(vertex, VertexKind.SCOPE, "every pod" + (
                "" if scope == "cluster" else f" of namespace {scope}")))
            if scope == "cluster":
                for ns in self.namespaces:
                    self.graph.add_step(Step(vertex, self.pods(ns), AttackType.POD_EXEC, 5))
            else:
                for wl in self.workloads.get(scope, []):
                    self.graph.add_step(Step(vertex, wl, AttackType.POD_EXEC, 5))
        return vertex

    def ports(self, scope: str) -> str:
        """Every declared port of the scope's pods, whatever their NetworkPolicies say."""
        vertex = f"Ports/{'*' if scope == 'cluster' else scope}"
        if vertex not in self.graph:
            self.graph.add_vertex(Vertex(vertex, VertexKind.SCOPE, "the ports of every pod" + (
                "" if scope == "cluster" else f" of namespace {scope}")))
            for wl in self._workloads_in(scope):
                if self._listens(wl):
                    self.graph.add_step(Step(vertex, wl, AttackType.ENDPOINT_EXPLOIT,
                                             ATTACKS[AttackType.ENDPOINT_EXPLOIT].likelihood,
                                             f"a declared port of {wl}"))
        return vertex

    def _workloads_in(self, scope: str) -> list[str]:
        if scope == "cluster":
            return [wl for items in self.workloads.values() for wl in items]
        return self.workloads.get(scope, [])

    def _listens(self, workload: str) -> bool:
        wl = self.facts.inventory.workload(workload)
        return wl is not None and any(c.ports for c in wl.pod.containers)

    def stores(self, scope: str) -> list[str]:
        """The data stores of the scope (what a redirected Service's credentials reach)."""
        return [wl for wl in self._workloads_in(scope)
                if (found := self.facts.inventory.workload(wl)) is not None
                and data_store(found)]

    def accounts_of(self, scope: str) -> str:
        vertex = f"ServiceAccounts/{'*' if scope == 'cluster' else scope}"
        if vertex not in self.graph:
            self.graph.add_vertex(Vertex(vertex, VertexKind.SCOPE, "every service account" + (
                "" if scope == "cluster" else f" of namespace {scope}")))
            if scope == "cluster":
                for ns in self.namespaces:
                    self.graph.add_step(Step(vertex, self.accounts_of(ns),
                                             AttackType.IDENTITY_ASSUME, 5))
            else:
                for sa in sorted(self.accounts.get(scope, ())):
                    ensure_service_account(self.graph, sa)
                    self.graph.add_step(Step(vertex, sa, AttackType.IDENTITY_ASSUME, 5,
                                             f"act as {sa}"))
        return vertex

    def secrets(self, scope: str) -> str:
        cluster = scope == "cluster"
        vertex = f"Secrets/{'*' if cluster else scope}"
        if vertex not in self.graph:
            level = None if cluster else self.facts.classification(f"Namespace/{scope}")
            self.graph.add_vertex(Vertex(
                vertex, VertexKind.SECRETS, "the Secrets of every namespace" if cluster
                else f"the Secrets of namespace {scope}", None if cluster else scope,
                target="secrets", impact=5 if cluster or level in SENSITIVE_CLASSES else 4))
            if cluster:
                for ns in self.namespaces:
                    self.graph.add_step(Step(vertex, self.secrets(ns), AttackType.TOKEN_LIST, 5,
                                             f"the Secrets of namespace {ns}"))
            else:
                self._token_secrets(vertex, scope)
        return vertex

    def _token_secrets(self, vertex: str, namespace: str) -> None:
        for res in self.token_secrets.get(namespace, []):
            name = res.annotations.get("kubernetes.io/service-account.name")
            if not name:
                continue
            sa = f"ServiceAccount/{namespace}/{name}"
            ensure_service_account(self.graph, sa)
            long_lived = self.ev.of("identity.long-lived-token", res.id)
            self.graph.add_step(Step(vertex, sa, AttackType.TOKEN_LIST, 5,
                                     f"{res.id} holds a long-lived token of {sa}",
                                     tuple(long_lived)))

    def namespace(self, scope: str) -> str:
        vertex = f"Namespace/{scope}"
        if vertex not in self.graph:
            self.graph.add_vertex(Vertex(vertex, VertexKind.NAMESPACE,
                                         f"control of namespace {scope}", scope))
            self.graph.add_step(Step(vertex, self.secrets(scope), AttackType.TOKEN_LIST, 5,
                                     "read every Secret of the namespace"))
            self.graph.add_step(Step(vertex, self.pods(scope), AttackType.POD_EXEC, 5,
                                     "exec into every pod of the namespace"))
            self.graph.add_step(Step(vertex, self.accounts_of(scope), AttackType.POD_CREATE, 5,
                                     "run a pod as any service account of the namespace"))
            self._create_on_nodes(vertex, scope, "create a privileged pod", ())
        return vertex

    def _create_on_nodes(self, source: str, scope: str, condition: str,
                         requires: tuple[str, ...]) -> None:
        controls = self.facts.admission_controls
        if scope == "cluster":
            stops = [controls.cluster_wide_block([g]) for g in _ESCAPES]
            watching: tuple[str, ...] = ()
        else:
            stops = [controls.blocks(scope, [g]) for g in _ESCAPES]
            watching = tuple(dict.fromkeys(c.text for c in controls.watches(scope, _ESCAPES)))
        # Every way out must be stopped: one open way is enough for the attacker.
        blocked = ", ".join(dict.fromkeys(c.text for c in stops if c is not None)) \
            if all(stops) else ""
        likelihood = ATTACKS[AttackType.POD_CREATE].likelihood - (1 if watching else 0)
        for pool in self.facts.placement.pools:
            self.graph.add_step(Step(
                source, pool_vertex(pool), AttackType.POD_CREATE, likelihood,
                f"{condition} on a node of pool {pool}", requires, requires, watching,
                f"{blocked}: privileged pods, host namespaces and host paths are not admitted"
                if blocked else ""))

    def _claim_on_nodes(self, source: str, condition: str, requires: tuple[str, ...]) -> None:
        """A hostPath PersistentVolume and a pod that claims it, on every pool."""
        for pool in self.facts.placement.pools:
            self.graph.add_step(Step(
                source, pool_vertex(pool), AttackType.PV_HOSTPATH,
                ATTACKS[AttackType.PV_HOSTPATH].likelihood,
                f"{condition}, and a pod that claims it on a node of pool {pool}",
                requires, requires))

    # ---- one subject ----------------------------------------------------------------------
    def subject(self, subject: str) -> None:
        caps = self.facts.capabilities(subject)
        if not caps:
            return
        kind, _, name = subject.partition("/")
        if kind == "ServiceAccount":
            ensure_service_account(self.graph, subject)
        else:
            self.graph.add_vertex(Vertex(subject, VertexKind.USER if kind == "User"
                                         else VertexKind.GROUP, f"{kind} {name}"))
        admin = {c.grant.scope for c in caps if c.key == "cluster-admin"}
        for cap in caps:
            grant = cap.grant
            if (subject, grant.binding) not in self.discovered:
                self.discovered.add((subject, grant.binding))
                self.graph.add_vertex(Vertex(grant.binding, VertexKind.BINDING, grant.binding))
                self.graph.add_vertex(Vertex(grant.role, VertexKind.ROLE, grant.role))
                self.graph.add_step(Step(subject, grant.binding, AttackType.PERMISSION_DISCOVER,
                                         5, f"bound by {grant.binding}"))
                if (grant.binding, grant.role) not in self.discovered:
                    self.discovered.add((grant.binding, grant.role))
                    self.graph.add_step(Step(grant.binding, grant.role,
                                             AttackType.PERMISSION_DISCOVER, 5,
                                             f"grants {grant.role}"))
            if cap.key != "cluster-admin" and (grant.scope in admin or "cluster" in admin):
                continue  # every right in the scope: its control says it all
            backing = _backing(subject, cap.key, grant.scope, admin)
            if backing is not None and not self.ev.has(backing):
                continue
            requires = (backing,) if backing is not None else ()
            for target, attack in self._reaches(cap):
                where = "cluster-wide" if grant.scope == "cluster" else \
                    f"in namespace {grant.scope}"
                condition = f"can {cap.label} {where} ({grant.binding} -> {grant.role})"
                if attack is AttackType.POD_CREATE and target == "nodes":
                    self._create_on_nodes(subject, grant.scope, condition, requires)
                    continue
                if attack is AttackType.PV_HOSTPATH:
                    if any(c.key in ("create-pods", "create-workloads") for c in caps):
                        self._claim_on_nodes(subject, condition, requires)
                    continue
                blocked = ""
                if attack is AttackType.POD_EXEC and grant.scope != "cluster":
                    control = self.facts.admission_controls.blocks(grant.scope, [Guard.EXEC])
                    blocked = f"{control.text}: exec is denied" if control is not None else ""
                self.graph.add_step(Step(subject, target, attack, ATTACKS[attack].likelihood,
                                         condition, requires, requires, (), blocked))

    def _reaches(self, cap: Capability) -> Iterable[tuple[str, AttackType]]:
        """(target vertex, attack) for one capability; ``nodes`` stands for every pool."""
        if cap.key in _TRAFFIC_AND_STORAGE:
            yield from self._reaches_past_isolation(cap)
            return
        scope = cap.grant.scope
        cluster = scope == "cluster"
        rule = cap.grant.rule
        if cap.key == "cluster-admin":
            yield ("cluster" if cluster else self.namespace(scope)), AttackType.RBAC_ADMIN
        elif cap.key == "secrets-read":
            listing = bool({"list", "watch", "*"} & set(rule.verbs))
            yield self.secrets(scope), (AttackType.TOKEN_LIST if listing
                                        else AttackType.TOKEN_BRUTEFORCE)
        elif cap.key in ("pods-exec", "pods-attach"):
            yield self.pods(scope), AttackType.POD_EXEC
        elif cap.key == "pods-patch":
            yield self.pods(scope), AttackType.POD_PATCH
        elif cap.key in ("create-pods", "create-workloads"):
            yield "nodes", AttackType.POD_CREATE
            yield self.accounts_of(scope), AttackType.POD_CREATE
        elif cap.key in ("escalate", "bind"):  # writes alone cannot grant more than held
            yield ("cluster" if cluster else self.namespace(scope)), AttackType.ROLE_BIND
        elif cap.key == "impersonate":
            humans = "*" in rule.resources or bool({"users", "groups"} & set(rule.resources))
            yield ("cluster" if cluster and humans else self.accounts_of(scope),
                   AttackType.IDENTITY_IMPERSONATE)
        elif cap.key == "token-request":
            yield self.accounts_of(scope), AttackType.TOKEN_REQUEST
            clouds = (self.clouds.get(scope, []) if not cluster
                      else [c for items in self.clouds.values() for c in items])
            for cloud in dict.fromkeys(clouds):
                yield cloud, AttackType.TOKEN_REQUEST
        elif cluster and cap.key == "nodes-proxy":
            yield self.pods("cluster"), AttackType.NODES_PROXY
        elif cluster and cap.key == "webhook-write":
            yield "cluster", AttackType.WEBHOOK_WRITE
        elif cluster and cap.key == "csr-approve":
            yield "cluster", AttackType.CSR_APPROVE

    def _reaches_past_isolation(self, cap: Capability) -> Iterable[tuple[str, AttackType]]:
        """What rights over configuration, storage and traffic reach."""
        scope = cap.grant.scope
        if cap.key == "configmaps-write" and (
                scope in {"cluster", "kube-system"} or set(cap.names) & _CLUSTER_MAPS):
            yield "cluster", AttackType.CONFIGMAP_WRITE
        elif cap.key == "pv-create":
            yield "nodes", AttackType.PV_HOSTPATH
        elif cap.key == "pods-portforward":
            yield self.ports(scope), AttackType.POD_PORTFORWARD
        elif cap.key == "networkpolicies-write":
            yield self.ports(scope), AttackType.NETPOL_WRITE
        elif cap.key in ("services-write", "endpoints-write"):
            for store in self.stores(scope):
                yield store, AttackType.TRAFFIC_REDIRECT


def add_rbac(facts: Facts, graph: AttackGraph, ev: Evidence) -> None:
    """Add every subject of a binding and the steps its rights give."""
    rbac = _Rbac(facts, graph, ev)
    for subject in sorted({s.id for b in facts.inventory.bindings for s in b.subjects}):
        rbac.subject(subject)
