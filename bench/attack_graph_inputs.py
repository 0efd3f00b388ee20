"""A generated cluster of N pods in realistic proportions, for bench/attack_graph.py.

About 3 pods per workload (Deployments of 1-6 replicas, StatefulSet data stores of 3, Jobs of
1, DaemonSets on every node of 30 pods); 25 workloads per namespace; a service account for 70%
of workloads; a Service for 80% of Deployments, 2% of them public LoadBalancers, an Ingress per
40 workloads; NetworkPolicies in 60% of namespaces (default deny, same-namespace and
ingress-controller allows), egress rules in a third of those; per namespace an edit binding for
its team's group and a deployer with create rights in one of twenty; a few cluster-wide
operators (secret readers, one cluster-admin); 2% privileged containers, 1% host paths, 3%
IRSA service accounts; three node pools (general, a tainted one for data stores, one for
batch) and six node agents as DaemonSets.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml

__all__ = ["generate"]

_STORES = ("postgres:16", "redis:7", "mongo:7", "mysql:8")


def _deployment(kind: str, name: str, ns: str, image: str, replicas: int, *,
                sa: str | None, port: int | None, pod: dict[str, Any],
                container: dict[str, Any]) -> dict[str, Any]:
    labels = {"app": name, "tier": "store" if kind == "StatefulSet" else "app"}
    spec_pod: dict[str, Any] = {"containers": [{
        "name": name, "image": image, **({"ports": [{"containerPort": port, "name": "main"}]}
                                         if port else {}), **container}], **pod}
    if sa:
        spec_pod["serviceAccountName"] = sa
    template = {"metadata": {"labels": labels}, "spec": spec_pod}
    if kind == "CronJob":
        spec: dict[str, Any] = {"schedule": "0 * * * *", "jobTemplate": {"spec": {
            "template": template}}}
    elif kind == "DaemonSet":
        spec = {"selector": {"matchLabels": {"app": name}}, "template": template}
    else:
        spec = {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                "template": template}
        if kind == "StatefulSet":
            spec["serviceName"] = name
    api = "batch/v1" if kind == "CronJob" else "apps/v1"
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": ns},
            "spec": spec}


def _namespace_docs(ns: str, rng: random.Random, index: int, *, pods: int
                    ) -> tuple[list[dict[str, Any]], int]:
    docs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace",
                                   "metadata": {"name": ns, "labels": {"team": f"t{index}"}}}]
    made = 0
    store_names: list[str] = []
    for i in range(25):
        if made >= pods:
            break
        roll = rng.random()
        name = f"{ns}-w{i:02d}"
        pod: dict[str, Any] = {}
        container: dict[str, Any] = {}
        if roll < 0.08:
            kind, replicas, image, port = "StatefulSet", 3, rng.choice(_STORES), 5432
            pod = {"nodeSelector": {"pool": "data"}, "tolerations": [
                {"key": "dedicated", "value": "data", "effect": "NoSchedule"}]}
            store_names.append(name)
            docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {
                "name": f"{name}-creds", "namespace": ns}, "type": "Opaque",
                "data": {"password": "cmVkYWN0ZWQ="}})
            container["env"] = [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {
                "name": f"{name}-creds", "key": "password"}}}]
        elif roll < 0.13:
            kind, replicas, image, port = "CronJob", 1, "registry.example.com/batch:1", None
            pod = {"nodeSelector": {"pool": "batch"}, "restartPolicy": "OnFailure"}
        else:
            kind, replicas = "Deployment", rng.randint(1, 6)
            image, port = f"registry.example.com/{name}:1.{i}", 8080
            if store_names and rng.random() < 0.5:
                container["env"] = [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {
                    "name": f"{store_names[-1]}-creds", "key": "password"}}}]
        special = rng.random()
        if special < 0.02:
            container["securityContext"] = {"privileged": True}
        elif special < 0.03:
            pod["volumes"] = [{"name": "host", "hostPath": {"path": "/var/lib/kubelet"}}]
            container["volumeMounts"] = [{"name": "host", "mountPath": "/host",
                                          "readOnly": True}]
        sa = name if rng.random() < 0.7 else None
        if sa:
            annotations = ({"eks.amazonaws.com/role-arn": f"arn:aws:iam::1:role/{name}"}
                           if rng.random() < 0.03 else {})
            docs.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
                "name": sa, "namespace": ns, "annotations": annotations}})
        docs.append(_deployment(kind, name, ns, image, replicas, sa=sa, port=port, pod=pod,
                                container=container))
        made += replicas
        if port and rng.random() < 0.8:
            public = rng.random() < 0.02
            docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {
                "name": name, "namespace": ns}, "spec": {
                "type": "LoadBalancer" if public else "ClusterIP", "selector": {"app": name},
                "ports": [{"port": 80, "targetPort": port}]}})
            if rng.random() < 0.04:
                docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                             "metadata": {"name": name, "namespace": ns}, "spec": {"rules": [{
                                 "host": f"{name}.example.com", "http": {"paths": [{
                                     "path": "/", "pathType": "Prefix", "backend": {
                                         "service": {"name": name,
                                                     "port": {"number": 80}}}}]}}]}})
    docs.extend(_policies(ns, rng))
    docs.extend(_rbac(ns, index))
    return docs, made


def _policies(ns: str, rng: random.Random) -> list[dict[str, Any]]:
    if rng.random() >= 0.6:
        return []

    def pol(name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": name, "namespace": ns}, "spec": spec}

    out = [pol("default-deny", {"podSelector": {}, "policyTypes": ["Ingress"]}),
           pol("same-namespace", {"podSelector": {"matchLabels": {"tier": "app"}}, "ingress": [
               {"from": [{"podSelector": {}}], "ports": [{"port": 8080}]},
               {"from": [{"namespaceSelector": {"matchLabels": {
                   "kubernetes.io/metadata.name": "ingress"}}}]}]}),
           pol("stores", {"podSelector": {"matchLabels": {"tier": "store"}}, "ingress": [
               {"from": [{"podSelector": {"matchLabels": {"tier": "app"}}}],
                "ports": [{"port": 5432}]}]})]
    if rng.random() < 0.33:
        out.append(pol("egress", {"podSelector": {"matchLabels": {"tier": "app"}},
                                  "policyTypes": ["Egress"], "egress": [
                                      {"to": [{"podSelector": {"matchLabels": {
                                          "tier": "store"}}}]},
                                      {"ports": [{"port": 53, "protocol": "UDP"}]}]}))
    return out


def _rbac(ns: str, index: int) -> list[dict[str, Any]]:
    ref = {"apiGroup": "rbac.authorization.k8s.io"}
    docs: list[dict[str, Any]] = [{
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "team-edit", "namespace": ns},
        "roleRef": {**ref, "kind": "ClusterRole", "name": "edit"},
        "subjects": [{"kind": "Group", "name": f"team-t{index}", **ref}]}]
    if index % 20 == 0:
        docs += [{"apiVersion": "v1", "kind": "ServiceAccount",
                  "metadata": {"name": "deployer", "namespace": ns}},
                 {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                  "metadata": {"name": "deployer", "namespace": ns},
                  "rules": [{"apiGroups": ["apps"], "resources": ["deployments"],
                             "verbs": ["create", "update", "patch"]}]},
                 {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                  "metadata": {"name": "deployer", "namespace": ns},
                  "roleRef": {**ref, "kind": "Role", "name": "deployer"},
                  "subjects": [{"kind": "ServiceAccount", "name": "deployer",
                                "namespace": ns}]}]
    return docs


def _cluster_docs(nodes: int) -> tuple[list[dict[str, Any]], int]:
    ref = {"apiGroup": "rbac.authorization.k8s.io"}
    docs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": name}} for name in ("ingress", "ops")]
    operators = (("cert-manager", [{"apiGroups": [""], "resources": ["secrets"],
                                    "verbs": ["get", "list", "watch", "create"]}]),
                 ("argocd", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
                 ("external-secrets", [{"apiGroups": [""], "resources": ["secrets"],
                                        "verbs": ["get", "list", "create", "update"]}]))
    for name, rules in operators:
        docs += [
            {"apiVersion": "v1", "kind": "ServiceAccount",
             "metadata": {"name": name, "namespace": "ops"}},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": name}, "rules": rules},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
             "metadata": {"name": name}, "roleRef": {**ref, "kind": "ClusterRole", "name": name},
             "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": "ops"}]},
            _deployment("Deployment", name, "ops", f"registry.example.com/{name}:1", 1, sa=name,
                        port=9402, pod={}, container={})]
    docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                 "metadata": {"name": "platform-admins"},
                 "roleRef": {**ref, "kind": "ClusterRole", "name": "cluster-admin"},
                 "subjects": [{"kind": "Group", "name": "platform-admins", **ref}]})
    agents: tuple[tuple[str, dict[str, Any], dict[str, Any]], ...] = (
              ("log-agent", {"volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}]},
               {"volumeMounts": [{"name": "logs", "mountPath": "/var/log"}]}),
              ("csi-node", {"volumes": [{"name": "kubelet", "hostPath": {
                  "path": "/var/lib/kubelet"}}]},
               {"securityContext": {"privileged": True},
                "volumeMounts": [{"name": "kubelet", "mountPath": "/var/lib/kubelet"}]}),
              ("node-exporter", {"hostPID": True, "hostNetwork": True}, {}),
              ("cni", {"hostNetwork": True}, {"securityContext": {"capabilities": {
                  "add": ["NET_ADMIN"]}}}),
              ("kube-proxy", {"hostNetwork": True}, {"securityContext": {"privileged": True}}),
              ("dns-cache", {}, {}))
    for name, pod, container in agents:
        docs.append(_deployment("DaemonSet", name, "ops", f"registry.example.com/{name}:1", 1,
                                sa=None, port=None,
                                pod={**pod, "tolerations": [{"operator": "Exists"}]},
                                container=container))
    docs.append(_deployment("Deployment", "ingress-controller", "ingress",
                            "registry.example.com/ingress:1", 2, sa=None, port=443, pod={},
                            container={}))
    return docs, 3 + 2 + len(agents) * nodes


def generate(pods: int, out: Path, *, seed: int = 7) -> tuple[int, int, int]:
    """Write a cluster of about ``pods`` pods to ``out``; (pods, workloads, objects)."""
    rng = random.Random(seed)
    nodes = max(1, pods // 30)
    docs, made = _cluster_docs(nodes)
    index = 0
    while made < pods:
        more, count = _namespace_docs(f"team-{index:04d}", rng, index, pods=pods - made)
        docs += more
        made += count
        index += 1

    class NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: object) -> bool:
            return True

    out.write_text(yaml.dump_all(docs, Dumper=NoAliases, sort_keys=False), encoding="utf-8")
    workloads = sum(1 for d in docs if d["kind"] in {"Deployment", "StatefulSet", "DaemonSet",
                                                       "CronJob"})
    return made, workloads, len(docs)
