"""Shared helpers of the identity rules: subjects, their capabilities, and grant evidence."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from agents.facts.derived import Facts
from agents.facts.identity import Capability, automounts_token
from agents.rules.base import RuleMeta, located
from workflow.domain.inventory import Inventory
from workflow.domain.rbac import Grant
from workflow.domain.scoring import Likelihood
from workflow.domain.threat_model import Evidence, Finding

__all__ = ["capability_findings", "grant_evidence", "subjects", "token_holders"]


def subjects(inv: Inventory, *kinds: str) -> list[str]:
    """Subject ids named by any binding, optionally only of some kinds, sorted."""
    found = {s.id for b in inv.bindings for s in b.subjects if not kinds or s.kind in kinds}
    return sorted(found)


def grant_evidence(inv: Inventory, grant: Grant) -> list[Evidence]:
    """Evidence for a grant: the binding's roleRef and the role's rule."""
    rule = grant.rule
    shown = {"apiGroups": list(rule.api_groups), "resources": list(rule.resources),
             "verbs": list(rule.verbs)}
    return [located(inv, grant.binding, "/roleRef", grant.role),
            located(inv, grant.role, rule.pointer or "/rules", shown)]


def token_holders(inv: Inventory, subject: str) -> list[str]:
    """The workloads whose pods mount the token of a service account (its rights' reach)."""
    return sorted(wl.id for wl in inv.workloads_running_as(subject)
                  if wl.kind != "PodTemplate" and automounts_token(inv, wl))


def _scope_text(scope: str) -> str:
    return "cluster-wide" if scope == "cluster" else f"in namespace {scope}"


def capability_findings(facts: Facts, rule: RuleMeta, keys: Iterable[str], *,
                        subject_kinds: tuple[str, ...] = ("ServiceAccount",),
                        cluster_impact: int | None = None) -> Iterator[Finding]:
    """One finding per subject and scope that holds one of the capabilities ``keys``.

    A scope where the subject is already all-powerful (cluster-admin) is left to that rule,
    so one wildcard grant does not fan out into a finding per ability. The likelihood is what
    an attacker needs first: a service account whose token a pod mounts is one step away (run
    code in that pod); otherwise the rule's base (a token must be obtained first).
    """
    inv = facts.inventory
    wanted = set(keys)
    for subject in subjects(inv, *subject_kinds):
        caps: dict[str, list[Capability]] = {}
        held = facts.capabilities(subject)
        admin = {c.grant.scope for c in held if c.key == "cluster-admin"}
        for cap in held:
            if cap.key in wanted and (cap.key == "cluster-admin" or (
                    cap.grant.scope not in admin and "cluster" not in admin)):
                caps.setdefault(cap.grant.scope, []).append(cap)
        holders = token_holders(inv, subject) if subject.startswith("ServiceAccount/") else []
        for scope, items in sorted(caps.items()):
            labels = sorted({c.label for c in items})
            evidence = [e for c in items[:3] for e in grant_evidence(inv, c.grant)]
            resources = (subject, *dict.fromkeys(c.grant.binding for c in items))
            yield rule.finding(
                resources, evidence, detail=scope,
                impact=cluster_impact if scope == "cluster" and cluster_impact else None,
                likelihood=Likelihood.ONE_STEP if holders else None,
                title=f"{subject} can {' and '.join(labels)} {_scope_text(scope)}"
                      + (f"; its token is mounted in {', '.join(holders[:3])}"
                         if holders else ""))
