"""Seccomp profile missing or Unconfined."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import containers
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.resources import Container, Workload
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.seccomp-profile",
    title="No seccomp profile",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE,),
    likelihood=2, impact=2,
    description=("Without a seccomp profile every system call is open to the container, and "
                 "with it the kernel's full attack surface."),
    tactics=(refs.TA.PRIVILEGE_ESCALATION,),
    techniques=("T1611",),
    references=(*refs.cis("5.7.2"), *refs.pss("baseline/seccomp", "restricted/seccomp"),
                *refs.nsa("pod-security"), *refs.WORKLOAD),
    remediation="Set securityContext.seccompProfile.type: RuntimeDefault (or Localhost) at pod "
                "level.",
    false_positives="Clusters whose kubelet defaults to RuntimeDefault (--seccomp-default) "
                    "are protected even without the field.",
    kb_topics=("seccomp",),
    harm="container",
)


def _legacy_profile(value: str) -> str | None:
    """The profile a deprecated seccomp annotation value names; None for a non-profile."""
    if value in {"runtime/default", "docker/default"}:
        return "RuntimeDefault"
    if value.startswith("localhost/") and len(value) > len("localhost/"):
        return "Localhost"
    return "Unconfined" if value == "unconfined" else None


def _profile(wl: Workload, container: Container) -> tuple[str | None, str]:
    for where, ctx in ((container.path + "/securityContext", container.security_context),
                       (wl.pod.path + "/securityContext", wl.pod.security_context)):
        prof = ctx.get("seccompProfile")
        if isinstance(prof, dict) and prof.get("type"):
            return str(prof["type"]), where + "/seccompProfile/type"
    notes = {**wl.pod.annotations}
    legacy = notes.get(f"container.seccomp.security.alpha.kubernetes.io/{container.name}") \
        or notes.get("seccomp.security.alpha.kubernetes.io/pod")
    if legacy:
        return _legacy_profile(legacy), wl.pod.path.rsplit("/", 1)[0] + "/metadata/annotations"
    return None, container.path + "/securityContext/seccompProfile"


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag containers with no seccomp profile (restricted) or Unconfined (baseline)."""
    inv = facts.inventory
    for wl, container in containers(inv):
        kind, path = _profile(wl, container)
        if kind in {"RuntimeDefault", "Localhost"}:
            continue
        yield RULE.finding(
            wl.id, [located(inv, wl.id, path, kind)], detail=container.name,
            impact=3 if kind == "Unconfined" else 2,
            title=f"Container {container.name} in {wl.name} runs "
                  + ("seccomp Unconfined" if kind == "Unconfined" else "without seccomp"))
