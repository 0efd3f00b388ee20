"""Custom SELinux options (type, user or role)."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import containers
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

_ALLOWED_TYPES = {"", "container_t", "container_init_t", "container_kvm_t",
                  "container_engine_t"}

RULE = RuleMeta(
    id="controls.selinux-options",
    title="Custom SELinux options",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE,),
    likelihood=2, impact=3,
    description=("Setting an SELinux type other than the container types, or any user or "
                 "role, can take the process out of SELinux confinement (spc_t, unconfined_t)."),
    tactics=(refs.TA.DEFENSE_EVASION, refs.TA.PRIVILEGE_ESCALATION),
    techniques=("T1611",),
    references=(*refs.pss("baseline/selinux"), *refs.nsa("pod-security"), *refs.WORKLOAD),
    remediation="Remove seLinuxOptions.user and role, and use only the container_t family of "
                "types.",
    false_positives="Node agents with a purpose-written SELinux policy.",
    kb_topics=("apparmor-selinux",),
    harm="container",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag containers (or pods) with seLinuxOptions outside the baseline allowance."""
    inv = facts.inventory
    for wl, container in containers(inv):
        for where, ctx in ((container.path, container.security_context),
                           (wl.pod.path, wl.pod.security_context)):
            opts = ctx.get("seLinuxOptions")
            if not isinstance(opts, dict):
                continue
            bad = {k: v for k, v in opts.items() if (k in {"user", "role"} and v)
                   or (k == "type" and str(v) not in _ALLOWED_TYPES)}
            if bad:
                yield RULE.finding(wl.id, [located(
                    inv, wl.id, where + "/securityContext/seLinuxOptions", bad)],
                    detail=container.name,
                    title=f"Container {container.name} in {wl.name} sets SELinux "
                          + ", ".join(f"{k}={v}" for k, v in sorted(bad.items())))
                break
