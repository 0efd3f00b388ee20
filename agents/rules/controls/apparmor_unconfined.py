"""AppArmor explicitly disabled."""

from __future__ import annotations

from collections.abc import Iterator

from agents.facts.derived import Facts
from agents.facts.workloads import containers
from agents.rules import refs
from agents.rules.base import RuleMeta, located
from workflow.domain.threat_model import Finding, Phase, Stride

__all__ = ["RULE", "evaluate"]

RULE = RuleMeta(
    id="controls.apparmor-unconfined",
    title="AppArmor disabled",
    phase=Phase.CONTROLS,
    stride=(Stride.ELEVATION_OF_PRIVILEGE,),
    likelihood=2, impact=3,
    description="The container opts out of the runtime's default AppArmor profile.",
    tactics=(refs.TA.DEFENSE_EVASION, refs.TA.PRIVILEGE_ESCALATION),
    techniques=("T1611",),
    references=(*refs.pss("baseline/apparmor"), *refs.nsa("pod-security"), *refs.WORKLOAD),
    remediation="Remove the Unconfined AppArmor profile; use RuntimeDefault or a Localhost "
                "profile.",
    false_positives="Debugging containers, which should not run in production.",
    kb_topics=("apparmor-selinux",),
    harm="container",
)


def evaluate(facts: Facts) -> Iterator[Finding]:
    """Flag containers whose AppArmor profile (field or annotation) is unconfined."""
    inv = facts.inventory
    for wl, container in containers(inv):
        for where, ctx in ((container.path, container.security_context),
                           (wl.pod.path, wl.pod.security_context)):
            prof = ctx.get("appArmorProfile")
            if isinstance(prof, dict) and prof.get("type"):
                if prof["type"] == "Unconfined":
                    yield RULE.finding(wl.id, [located(
                        inv, wl.id, where + "/securityContext/appArmorProfile/type",
                        "Unconfined")], detail=container.name,
                        title=f"Container {container.name} in {wl.name} runs without AppArmor")
                break
        else:
            key = f"container.apparmor.security.beta.kubernetes.io/{container.name}"
            if wl.pod.annotations.get(key) == "unconfined":
                meta = wl.pod.path.rsplit("/", 1)[0] + "/metadata/annotations/" + key.replace(
                    "/", "~1")
                yield RULE.finding(wl.id, [located(inv, wl.id, meta, "unconfined")],
                                   detail=container.name,
                                   title=f"Container {container.name} in {wl.name} runs "
                                         "without AppArmor")
