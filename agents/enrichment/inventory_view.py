"""The inventory as a phase's prompt shows it: one compact line per resource.

Which resources and which facets of a workload a phase sees is declared by the phase
(:class:`agents.phase.PromptView`); this module renders them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from agents.enrichment.text import as_data, clip
from agents.phase import PromptView, WorkloadDetail
from workflow.domain.inventory import Inventory
from workflow.domain.resources import WORKLOAD_KINDS, Resource, Workload

__all__ = [
    "inventory_facts",
]

_ANNOTATION_CHARS = 160

_SKIPPED_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})



def _meta_bits(res: Resource) -> list[str]:
    bits = []
    notes = {k: v for k, v in res.annotations.items() if k not in _SKIPPED_ANNOTATIONS}
    if notes:
        bits.append("annotations={" + ", ".join(
            f"{k}: {clip(v, _ANNOTATION_CHARS)}" for k, v in sorted(notes.items())) + "}")
    return bits


def _container_controls(raw: dict[str, Any], pod_sc: dict[str, Any]) -> str:
    sc = raw.get("securityContext") if isinstance(raw.get("securityContext"), dict) else {}
    assert isinstance(sc, dict)  # noqa: S101 - narrowed above
    parts = []
    for key in ("privileged", "allowPrivilegeEscalation", "readOnlyRootFilesystem",
                "runAsNonRoot", "runAsUser"):
        value = sc.get(key, pod_sc.get(key) if key in ("runAsNonRoot", "runAsUser") else None)
        if value is not None:
            parts.append(f"{key}={json.dumps(value)}")
    caps = sc.get("capabilities")
    if isinstance(caps, dict):
        if caps.get("add"):
            parts.append(f"capAdd={json.dumps(caps['add'])}")
        if caps.get("drop"):
            parts.append(f"capDrop={json.dumps(caps['drop'])}")
    seccomp = sc.get("seccompProfile") or pod_sc.get("seccompProfile")
    if isinstance(seccomp, dict):
        parts.append(f"seccomp={seccomp.get('type')}")
    resources = raw.get("resources")
    limits = resources.get("limits") if isinstance(resources, dict) else None
    parts.append("limits=" + ("yes" if limits else "none"))
    return " ".join(parts)


def _volume_bits(wl: Workload) -> list[str]:
    vols = []
    for vol in wl.pod.volumes:
        for field, label, key in (("secret", "secret", "secretName"),
                                  ("configMap", "configMap", "name"),
                                  ("persistentVolumeClaim", "pvc", "claimName"),
                                  ("hostPath", "hostPath", "path")):
            ref = vol.get(field)
            if isinstance(ref, dict):
                vols.append(f"{label}:{ref.get(key)}")
        if "emptyDir" in vol:
            vols.append("emptyDir")
    return ["volumes=[" + ",".join(vols) + "]"] if vols else []


def _secret_ref_bits(wl: Workload) -> list[str]:
    refs = set()
    for container in wl.pod.containers:
        for env in container.env:
            source = env.get("valueFrom")
            if isinstance(source, dict) and isinstance(source.get("secretKeyRef"), dict):
                refs.add(f"env {env.get('name')}<-secret:{source['secretKeyRef'].get('name')}")
        for item in container.raw.get("envFrom") or []:
            if isinstance(item, dict) and isinstance(item.get("secretRef"), dict):
                refs.add(f"envFrom<-secret:{item['secretRef'].get('name')}")
    return ["secretRefs=[" + "; ".join(sorted(refs)) + "]"] if refs else []


def _network_bits(wl: Workload, view: PromptView) -> list[str]:
    bits = []
    ports = sorted({f"{p.get('containerPort')}" + (f"(host {p['hostPort']})"
                                                   if p.get("hostPort") else "")
                    for c in wl.pod.containers for p in c.ports})
    if ports:
        bits.append("ports=[" + ",".join(ports) + "]")
    if WorkloadDetail.POD_LABELS in view.workload_details and wl.pod.labels:
        bits.append("podLabels={" + ",".join(
            f"{k}={v}" for k, v in sorted(wl.pod.labels.items())) + "}")
    return bits


def _workload_line(wl: Workload, res: Resource, view: PromptView) -> str:
    pod = wl.pod
    images = ",".join(c.image for c in pod.containers) or "none"
    bits = [f"{wl.kind} images=[{images}]", f"runs-as={wl.service_account_id}"]
    replicas = res.get("/spec/replicas")
    if isinstance(replicas, int):
        bits.append(f"replicas={replicas}")
    flags = [name for name in ("hostNetwork", "hostPID", "hostIPC") if pod.flag(name)]
    if flags:
        bits.append("host=" + ",".join(flags))
    details = view.workload_details
    if WorkloadDetail.TOKEN in details:
        token = pod.automount_token
        bits.append("automountToken=" + ("unset" if token is None else json.dumps(token)))
    if WorkloadDetail.VOLUMES in details:
        bits.extend(_volume_bits(wl))
    if WorkloadDetail.SECRET_REFS in details:
        bits.extend(_secret_ref_bits(wl))
    if WorkloadDetail.PORTS in details:
        bits.extend(_network_bits(wl, view))
    if WorkloadDetail.CONTAINER_CONTROLS in details:
        bits.extend(f"container {c.name}: " + _container_controls(c.raw, pod.security_context)
                    for c in pod.containers)
    return "; ".join(bits)


def _rule_text(rule: dict[str, Any]) -> str:
    verbs = ",".join(str(v) for v in rule.get("verbs") or [])
    if rule.get("nonResourceURLs"):
        return f"{verbs} on urls {','.join(map(str, rule['nonResourceURLs']))}"
    res = ",".join(str(r) for r in rule.get("resources") or [])
    names = rule.get("resourceNames")
    return f"{verbs} on {res}" + (f" (names {','.join(map(str, names))})" if names else "")


def _service_line(inv: Inventory, res: Resource) -> str:
    svc = next((s for s in inv.services if s.id == res.id), None)
    if svc is None:
        return "Service"
    ports = ",".join(f"{p.get('port')}->{p.get('targetPort', p.get('port'))}" for p in svc.ports)
    body = f"Service type={svc.type} ports=[{ports}] targets=[{','.join(svc.targets)}]"
    if svc.external_ips:
        body += f" externalIPs=[{','.join(svc.external_ips)}]"
    return body


def _ingress_line(inv: Inventory, res: Resource) -> str:
    ing = next((i for i in inv.ingresses if i.id == res.id), None)
    if ing is None:
        return "Ingress"
    routes = ",".join(f"{b.host or '*'}{b.path or ''}->{b.service}" for b in ing.backends)
    return f"Ingress tls={'yes' if ing.has_tls else 'no'} routes=[{routes}]"


def _policy_line(inv: Inventory, res: Resource) -> str:
    pol = next((p for p in inv.network_policies if p.id == res.id), None)
    if pol is None:
        return "NetworkPolicy"
    selects = "all pods" if pol.selects_all else ",".join(pol.targets) or "no workload"
    return (f"NetworkPolicy types={','.join(pol.policy_types)} selects=[{selects}] "
            f"ingress={clip(json.dumps(list(pol.ingress)), 200)} "
            f"egress={clip(json.dumps(list(pol.egress)), 200)}")


def _role_line(inv: Inventory, res: Resource) -> str:
    rules = [r for r in res.raw.get("rules") or [] if isinstance(r, dict)]
    body = f"{res.kind} rules=[{clip('; '.join(_rule_text(r) for r in rules), 400)}]"
    return body + (" aggregated" if isinstance(res.raw.get("aggregationRule"), dict) else "")


def _binding_line(inv: Inventory, res: Resource) -> str:
    binding = next((b for b in inv.bindings if b.id == res.id), None)
    if binding is None:
        return res.kind
    subjects = ",".join(s.id for s in binding.subjects)
    return f"{res.kind} role={binding.role} subjects=[{subjects}]"


def _account_line(inv: Inventory, res: Resource) -> str:
    automount = res.raw.get("automountServiceAccountToken")
    users = ",".join(w.id for w in inv.workloads_running_as(res.id))
    shown = "unset" if automount is None else json.dumps(automount)
    return f"ServiceAccount automountToken={shown} usedBy=[{users}]"


def _keys_line(inv: Inventory, res: Resource) -> str:
    keys: set[str] = set()
    for field in ("data", "stringData", "binaryData"):
        value = res.raw.get(field)
        if isinstance(value, dict):
            keys |= {str(k) for k in value}
    body = f"{res.kind} keys=[{','.join(sorted(keys))}]"
    if res.kind == "Secret":
        body += f" type={res.raw.get('type', 'Opaque')} (values redacted)"
    return body


def _namespace_line(inv: Inventory, res: Resource) -> str:
    if not res.labels:
        return "Namespace"
    return "Namespace labels={" + ",".join(
        f"{k}={v}" for k, v in sorted(res.labels.items())) + "}"


def _spec_line(inv: Inventory, res: Resource) -> str:
    spec = res.raw.get("spec")
    text = json.dumps(spec if isinstance(spec, dict) else {}, sort_keys=True)
    return f"{res.kind} spec={clip(text, 200)}"


_LINES: dict[str, Callable[[Inventory, Resource], str]] = {
    "Service": _service_line, "Ingress": _ingress_line, "NetworkPolicy": _policy_line,
    "Role": _role_line, "ClusterRole": _role_line, "RoleBinding": _binding_line,
    "ClusterRoleBinding": _binding_line, "ServiceAccount": _account_line,
    "Secret": _keys_line, "ConfigMap": _keys_line, "Namespace": _namespace_line,
    "PersistentVolumeClaim": _spec_line, "PersistentVolume": _spec_line,
    "StorageClass": _spec_line,
}


def _resource_line(inv: Inventory, res: Resource, view: PromptView) -> str:
    """One compact fact line about a resource (without the id)."""
    wl = inv.workload(res.id)
    if wl is not None:
        body = _workload_line(wl, res, view)
    elif res.kind in _LINES:
        body = _LINES[res.kind](inv, res)
    else:
        body = res.kind if res.known else f"{res.kind} (not analysed by rules)"
    return "; ".join([body, *_meta_bits(res)])


def inventory_facts(inv: Inventory, view: PromptView,
                    must_include: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The inventory facts a phase's ``view`` shows: ``(resource id, line)``, most important first.

    Resources named by the phase's rule findings come first, then the kinds the view lists.
    """
    order: list[str] = []
    for rid in must_include:
        if rid in inv and rid not in order:
            order.append(rid)
    for kind in view.kinds:
        kinds = tuple(WORKLOAD_KINDS) if kind == "*workloads" else (kind,)
        for res in inv.of_kind(*kinds):
            if res.id not in order:
                order.append(res.id)
    facts = []
    for rid in order:
        res = inv.resources[rid]
        facts.append((rid, f"- {rid}: {as_data(_resource_line(inv, res, view))}"))
    return facts
