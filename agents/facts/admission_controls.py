"""What admission control blocks, per namespace: the positive controls on an attack path.

Pod Security Admission (the namespace's ``pod-security.kubernetes.io/<mode>`` labels), Kyverno
policies, Gatekeeper constraints of the pod-security library and ValidatingAdmissionPolicies
each stop some pod settings (privileged, host namespaces, host paths, added capabilities) or
``kubectl exec``. A control that *enforces* in a namespace blocks the setting there: a pod of the
manifests that has it is not admitted, and nobody can create one. A control that only audits or
warns weakens the step (it is seen, not stopped).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from workflow.domain.inventory import Inventory
from workflow.domain.resources import Resource

__all__ = ["AdmissionControls", "Control", "Guard", "find_admission_controls"]


class Guard(StrEnum):
    """A pod setting (or API action) an admission control can stop."""

    PRIVILEGED = "privileged"
    HOST_PID = "hostPID"
    HOST_NETWORK = "hostNetwork"
    HOST_PATH = "hostPath"
    CAPABILITIES = "capabilities"
    EXEC = "exec"


#: What the Pod Security Standards baseline (and so restricted) level forbids.
_PSS_BASELINE = frozenset({Guard.PRIVILEGED, Guard.HOST_PID, Guard.HOST_NETWORK,
                           Guard.HOST_PATH, Guard.CAPABILITIES})
#: Words in a policy's body that show which settings it validates.
_WORDS: tuple[tuple[Guard, tuple[str, ...]], ...] = (
    (Guard.PRIVILEGED, ("privileged",)),
    (Guard.HOST_PID, ("hostpid",)),
    (Guard.HOST_NETWORK, ("hostnetwork",)),
    (Guard.HOST_PATH, ("hostpath",)),
    (Guard.CAPABILITIES, ("capabilities",)),
    (Guard.EXEC, ("podexecoptions", "pods/exec")),
)
#: Gatekeeper pod-security library constraint kinds.
_GATEKEEPER: dict[str, frozenset[Guard]] = {
    "K8sPSPPrivilegedContainer": frozenset({Guard.PRIVILEGED}),
    "K8sPSPHostNamespace": frozenset({Guard.HOST_PID}),
    "K8sPSPHostNetworkingPorts": frozenset({Guard.HOST_NETWORK}),
    "K8sPSPHostFilesystem": frozenset({Guard.HOST_PATH}),
    "K8sPSPCapabilities": frozenset({Guard.CAPABILITIES}),
    "K8sPSPVolumeTypes": frozenset({Guard.HOST_PATH}),
}


@dataclass(frozen=True)
class Control:
    """One admission control: what shows it, what it guards, whether it enforces."""

    resource: str
    text: str
    guards: frozenset[Guard]
    enforce: bool
    namespaces: frozenset[str] | None = None
    excluded: frozenset[str] = frozenset()

    def applies(self, namespace: str) -> bool:
        """True when the control covers a namespace."""
        if namespace in self.excluded:
            return False
        return self.namespaces is None or namespace in self.namespaces


@dataclass
class AdmissionControls:
    """The admission controls of an inventory."""

    controls: list[Control] = field(default_factory=list)

    def on(self, namespace: str, guard: Guard) -> list[Control]:
        """The controls that guard a setting in a namespace, enforcing ones first."""
        found = [c for c in self.controls if guard in c.guards and c.applies(namespace)]
        return sorted(found, key=lambda c: (not c.enforce, c.resource))

    def blocks(self, namespace: str, guards: Iterable[Guard]) -> Control | None:
        """The enforcing control that stops one of ``guards`` in a namespace, if any."""
        for guard in guards:
            for control in self.on(namespace, guard):
                if control.enforce:
                    return control
        return None

    def watches(self, namespace: str, guards: Iterable[Guard]) -> list[Control]:
        """The controls that only audit or warn about ``guards`` in a namespace."""
        return [c for g in guards for c in self.on(namespace, g) if not c.enforce]

    def cluster_wide_block(self, guards: Iterable[Guard]) -> Control | None:
        """An enforcing control that stops one of ``guards`` in every namespace, if any."""
        wanted = set(guards)
        for control in self.controls:
            if control.enforce and control.namespaces is None and not control.excluded \
                    and wanted & control.guards:
                return control
        return None


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str).lower()


def _guards(body: Any) -> frozenset[Guard]:
    text = _text(body)
    return frozenset(g for g, words in _WORDS if any(w in text for w in words))


def _psa(inv: Inventory) -> Iterable[Control]:
    for res in inv.of_kind("Namespace"):
        prefix = "pod-security.kubernetes.io/"
        for mode in ("enforce", "audit", "warn"):
            level = res.labels.get(prefix + mode)
            if level in {"baseline", "restricted"}:
                yield Control(res.id, f"Pod Security Admission {mode}={level} on namespace "
                                      f"{res.name}", _PSS_BASELINE, mode == "enforce",
                              frozenset({res.name}))


def _kyverno(res: Resource) -> Control | None:
    spec = res.raw.get("spec")
    if not isinstance(spec, Mapping):
        return None
    action = str(spec.get("validationFailureAction") or "Audit").lower()
    rules = [r for r in spec.get("rules") or [] if isinstance(r, Mapping)]
    guards: set[Guard] = set()
    enforce = False
    excluded: set[str] = set()
    for rule in rules:
        validate = rule.get("validate")
        if not isinstance(validate, Mapping):
            continue
        found = _guards(validate) | (_guards(rule.get("match")) & {Guard.EXEC})
        if not found:
            continue
        guards |= found
        rule_action = str(validate.get("failureAction") or action).lower()
        enforce |= rule_action == "enforce"
        exclude = rule.get("exclude")
        for ns in _namespaces_in(exclude):
            excluded.add(ns)
    if not guards:
        return None
    scope = frozenset({res.namespace}) if res.kind == "Policy" and res.namespace else None
    return Control(res.id, f"Kyverno {res.kind} {res.name} "
                           f"({'enforce' if enforce else 'audit'})",
                   frozenset(guards), enforce, scope, frozenset(excluded))


def _namespaces_in(value: Any) -> list[str]:
    """Namespace names listed anywhere under ``value`` (``namespaces: [...]`` keys)."""
    found: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == "namespaces" and isinstance(item, list):
                found.extend(str(n) for n in item)
            else:
                found.extend(_namespaces_in(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_namespaces_in(item))
    return found


def _gatekeeper(res: Resource) -> Control | None:
    guards = _GATEKEEPER.get(res.kind)
    if guards is None or not res.api_version.startswith("constraints.gatekeeper.sh"):
        return None
    spec = res.raw.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    action = str(spec.get("enforcementAction") or "deny").lower()
    match = spec.get("match") if isinstance(spec.get("match"), Mapping) else {}
    names = match.get("namespaces") if isinstance(match, Mapping) else None
    excluded = match.get("excludedNamespaces") if isinstance(match, Mapping) else None
    return Control(res.id, f"Gatekeeper {res.kind} {res.name} ({action})", guards,
                   action == "deny",
                   frozenset(str(n) for n in names) if isinstance(names, list) else None,
                   frozenset(str(n) for n in excluded) if isinstance(excluded, list)
                   else frozenset())


def _vap(inv: Inventory) -> Iterable[Control]:
    bindings: dict[str, list[Resource]] = {}
    for binding in inv.of_kind("ValidatingAdmissionPolicyBinding"):
        name = str(binding.get("/spec/policyName") or "")
        bindings.setdefault(name, []).append(binding)
    for res in inv.of_kind("ValidatingAdmissionPolicy"):
        guards = _guards(res.get("/spec/validations"))
        if not guards:
            continue
        for binding in bindings.get(res.name, []):
            actions = [str(a).lower() for a in binding.get("/spec/validationActions") or []]
            yield Control(binding.id, f"ValidatingAdmissionPolicy {res.name} "
                                      f"({', '.join(actions) or 'deny'})", guards,
                          not actions or "deny" in actions)


def find_admission_controls(inv: Inventory) -> AdmissionControls:
    """The admission controls the manifests declare."""
    controls = list(_psa(inv))
    for res in inv.of_kind("ClusterPolicy", "Policy"):
        if "kyverno" in res.api_version:
            control = _kyverno(res)
            if control is not None:
                controls.append(control)
    for res in inv.resources.values():
        if res.api_version.startswith("constraints.gatekeeper.sh"):
            control = _gatekeeper(res)
            if control is not None:
                controls.append(control)
    controls.extend(_vap(inv))
    return AdmissionControls(sorted(controls, key=lambda c: c.resource))
