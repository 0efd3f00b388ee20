"""Shared helpers of the identity rules: subjects, their capabilities, and grant evidence."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from agents.facts.derived import Facts
from agents.facts.identity import Capability, automounts_token
from agents.rules.base import RuleMeta, located
from workflow.domain.inventory import Inventory
from workflow.domain.rbac import Grant
from workflow.domain.scoring import Likelihood
from workflow.domain.threat_model import Evidence, Finding

__all__ = ["HIGH_VALUE_NAMES", "capability_findings", "grant_evidence", "subjects",
           "token_holders"]


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


#: Objects whose name makes even a narrowed grant on them dangerous.
HIGH_VALUE_NAMES = frozenset({
    "aws-auth", "coredns", "kube-proxy", "cluster-admin", "admin", "edit", "system:masters",
    "extension-apiserver-authentication", "kubeadm-config", "kubelet-config"})
#: Abilities that escalate whatever the names they are narrowed to.
_ESCALATING = frozenset({"escalate", "bind", "impersonate", "token-request", "csr-approve"})
#: Abilities that are routine when narrowed to named objects (a controller's own Secret, its
#: own webhook's caBundle, its own ConfigMap): reported only for high-value names.
_ROUTINE_NARROWED = frozenset({"secrets-read", "webhook-write", "configmaps-write"})


def _label(cap: Capability) -> str:
    return f"{cap.label} ({', '.join(cap.names)})" if cap.names else cap.label


def _kept(cap: Capability) -> bool:
    """A narrowed ability is kept unless it is routine for the names it is narrowed to."""
    return not cap.names or cap.key not in _ROUTINE_NARROWED \
        or bool(set(cap.names) & HIGH_VALUE_NAMES)


def _narrowed_only(items: list[Capability]) -> bool:
    """Every ability is narrowed to names that are neither high-value nor escalating."""
    return all(c.names and c.key not in _ESCALATING and not set(c.names) & HIGH_VALUE_NAMES
               for c in items)


def capability_findings(facts: Facts, rule: RuleMeta, keys: Iterable[str], *,
                        subject_kinds: tuple[str, ...] = ("ServiceAccount",),
                        cluster_impact: int | None = None,
                        impact_of: Callable[[str, Sequence[Capability]], int | None]
                        | None = None) -> Iterator[Finding]:
    """One finding per subject and scope that holds one of the capabilities ``keys``.

    A scope where the subject is already all-powerful (cluster-admin) is left to that rule,
    so one wildcard grant does not fan out into a finding per ability. The likelihood is what
    an attacker needs first: a service account whose token a pod mounts is one step away (run
    code in that pod); otherwise the rule's base (a token must be obtained first). A grant
    narrowed by resourceNames names its objects and loses a step of impact, unless the names
    are high-value or the ability escalates whatever it is narrowed to. ``impact_of(scope,
    capabilities)`` may set the impact of a scope (None keeps the rule's).
    """
    inv = facts.inventory
    wanted = set(keys)
    for subject in subjects(inv, *subject_kinds):
        caps: dict[str, list[Capability]] = {}
        held = facts.capabilities(subject)
        admin = {c.grant.scope for c in held if c.key == "cluster-admin"}
        for cap in held:
            if cap.key in wanted and _kept(cap) and (cap.key == "cluster-admin" or (
                    cap.grant.scope not in admin and "cluster" not in admin)):
                caps.setdefault(cap.grant.scope, []).append(cap)
        holders = token_holders(inv, subject) if subject.startswith("ServiceAccount/") else []
        for scope, items in sorted(caps.items()):
            labels = sorted({_label(c) for c in items})
            evidence = [e for c in items[:3] for e in grant_evidence(inv, c.grant)]
            resources = (subject, *dict.fromkeys(c.grant.binding for c in items))
            impact = cluster_impact if scope == "cluster" and cluster_impact else rule.impact
            chosen = impact_of(scope, items) if impact_of is not None else None
            impact = chosen if chosen is not None else impact
            yield rule.finding(
                resources, evidence, detail=scope,
                impact=impact - 1 if _narrowed_only(items) else impact,
                likelihood=Likelihood.ONE_STEP if holders else None,
                title=f"{subject} can {' and '.join(labels)} {_scope_text(scope)}"
                      + (f"; its token is mounted in {', '.join(holders[:3])}"
                         if holders else ""))
