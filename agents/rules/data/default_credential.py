"""Default or demo credentials shipped with the application."""

from __future__ import annotations

import re
from collections.abc import Iterator

from agents.facts.credentials import credential_sets
from agents.facts.derived import Facts
from agents.facts.workloads import admin_interface, image_name
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.inventory import Inventory
from workflow.domain.resources import Resource
from workflow.domain.scoring import Impact, Likelihood
from workflow.domain.threat_model import Evidence, Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="data.default-credential",
    title="Default or demo credentials shipped with the application",
    phase=Phase.DATA,
    stride=(Stride.SPOOFING, Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE),
    likelihood=Likelihood.ONE_STEP, impact=Impact.SERVICE,
    description=("A credential is a well-known default or placeholder (recognised by its "
                 "value at load time, never shown), an image's documented "
                 "default password is left in place, or a setting turns on demo users or a "
                 "pre-filled login: anyone who reaches the service logs in, no leak needed."),
    tactics=(refs.TA.INITIAL_ACCESS, refs.TA.CREDENTIAL_ACCESS),
    techniques=("T1078.001", "T1110.001"),
    ms_matrix=("MS-TA9027",),
    references=(*refs.nsa("authentication", "secrets"), *refs.SECRETS, *refs.AUTHN),
    remediation="Generate a unique credential per environment (from an external secret store), "
                "turn demo users and pre-filled logins off, and rotate what was shipped.",
    false_positives="Local demos that never leave a developer's machine.",
    kb_topics=("literal-credentials",),
    per_node=False,
    reach_is_enough=True,
)

#: Settings that turn on demo users or pre-fill the login page, when set to a true value.
_DEMO_SETTING = re.compile(
    r"(?i)^(.*[_.-])?(demo|sample|example|test)[_.-]?(users?|accounts?|logins?|data|mode"
    r"|credentials?)([_.-](enabled?|on|load|create))?$|^(.*[_.-])?(pre[_.-]?fill(ed)?|auto[_.-]?"
    r"fill|auto[_.-]?login)([_.-].*)?$|^(.*[_.-])?(create|load|seed)[_.-]?(demo|sample|default)"
    r"[_.-]?(users?|accounts?|data)$")
_TRUE = frozenset({"true", "1", "yes", "on", "enabled", "enable"})
#: image name fragment -> (environment variables that replace the default, what the default is)
_IMAGE_DEFAULTS: dict[str, tuple[tuple[str, ...], str]] = {
    "grafana/grafana": (("GF_SECURITY_ADMIN_PASSWORD", "GF_SECURITY_ADMIN_PASSWORD__FILE"),
                        "Grafana's documented admin/admin"),
    "minio/minio": (("MINIO_ROOT_PASSWORD", "MINIO_ROOT_PASSWORD_FILE", "MINIO_SECRET_KEY"),
                    "MinIO's documented minioadmin/minioadmin"),
}


def _impact(inv: Inventory, resource: str, kind_impact: int) -> int:
    """What a default opens: an admin interface is a system, else the credential's kind."""
    wl = inv.workload(resource)
    return max(kind_impact, Impact.SYSTEM) if wl is not None and admin_interface(wl) \
        else kind_impact


def _default_values(facts: Facts) -> Iterator[Finding]:
    inv = facts.inventory
    for cset in credential_sets(inv, (i for i in inv.secret_values if i.shape == "default")):
        res = inv.get(cset.resource)
        if res is None:
            continue
        kind = cset.kind
        yield RULE.finding(
            cset.resource, [located(inv, cset.resource, i.path, res.get(i.path))
                            for i in cset.items[:5]],
            detail=cset.name, impact=_impact(inv, cset.resource, kind.impact),
            title=f"{kind.label.capitalize()} is a well-known default in {res.kind} {res.name}: "
                  f"{', '.join(cset.keys)}")


def _settings(res: Resource) -> Iterator[tuple[str, str, str]]:
    """(name, value, JSON pointer) of the plain settings of a ConfigMap or a workload's env."""
    if res.kind == "ConfigMap":
        for key, value in sorted((res.raw.get("data") or {}).items()):
            yield str(key), str(value), "/data/" + str(key).replace("/", "~1")


def _demo_settings(facts: Facts) -> Iterator[Finding]:
    inv = facts.inventory
    found: list[tuple[str, str, str, str]] = []  # (resource, name, value, pointer)
    for res in inv.of_kind("ConfigMap"):
        found.extend((res.id, n, v, p) for n, v, p in _settings(res))
    for wl in inv.workloads:
        for container in wl.pod.containers:
            for index, entry in enumerate(container.env):
                if isinstance(entry.get("value"), str | bool | int):
                    found.append((wl.id, str(entry.get("name")), str(entry["value"]),
                                  f"{container.path}/env/{index}/value"))
    for resource, name, value, ptr in found:
        if _DEMO_SETTING.match(name) and value.strip().lower() in _TRUE:
            yield RULE.finding(resource, [located(inv, resource, ptr, value)], detail=name,
                               title=f"{name}={value} in {resource} turns on demo users or a "
                                     "pre-filled login")


def _image_defaults(facts: Facts) -> Iterator[Finding]:
    inv = facts.inventory
    for wl in inv.workloads:
        for container in wl.pod.containers:
            name = image_name(container.image)
            for fragment, (variables, what) in _IMAGE_DEFAULTS.items():
                if fragment not in name:
                    continue
                env = {str(e.get("name")) for e in container.env}
                if env & set(variables) or container.raw.get("envFrom"):
                    continue
                evidence: list[Evidence] = [located(inv, wl.id, container.path + "/env",
                                                    sorted(env) or None)]
                yield RULE.finding(
                    wl.id, evidence, detail=f"{container.name}:image-default",
                    impact=_impact(inv, wl.id, Impact.SERVICE), confidence=None,
                    title=f"{wl.kind} {wl.name} keeps {what} login ({container.image} sets no "
                          f"{variables[0]})")


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag well-known default values, documented image defaults and demo-user settings."""
    yield from _default_values(facts)
    yield from _image_defaults(facts)
    yield from _demo_settings(facts)
