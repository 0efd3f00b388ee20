"""The reviewer: merge, score, rank and summarise every phase's findings.

1. **Merge.** Findings with the same fingerprint are one finding (evidence and citations are
   united). A model finding (origin ``llm``) that overlaps a rule finding in resources and says
   much the same thing is merged into it: the survivor gets origin ``merged``, the model
   finding's id in ``merged_from`` and its citations, so no provenance is lost. Near-duplicate
   model findings are merged among themselves the same way.
2. **Attack paths** come from the attack graph of the inventory and the open merged findings
   (:mod:`agents.attack_graph`): its kept paths, choke points and summary.
3. **Score** in code, by the principles of docs/SEVERITY.md: each finding's likelihood and
   impact are adjusted (:func:`workflow.domain.scoring.adjust`) for exposure outside the cluster
   (when the attack starts at the exposed service), classified data (when the finding discloses
   or alters data), cluster-wide blast radius and mitigations present; what the manifests do not
   show lowers confidence, not severity; and a harm that several findings give the same subject
   (root on a node through one workload, the API rights of one account) is counted once: the
   strongest finding keeps its score, the others are lowered a step. A step of a critical or
   high attack path is reachable through it: its likelihood rises like exposure's (not on top
   of it, and with the path's id named). Regulatory references are added
   where the data classification calls for them. A human ``severity_override`` wins over the
   computed band.
4. **Rank** by band; within a band each risk once before its repeats (the same rule on other
   subjects, harms counted with a stronger finding), then by score, likelihood, impact and id;
   **summarise**; build the per-framework compliance summary and the identity map.

The reviewer is a pure function of the inventory and the phase findings: running it twice on
the same input gives the same model.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agents.attack_graph import analyse
from agents.catalogue import rule_meta
from agents.compliance_summary import build_compliance
from agents.facts.admission import policy_engines, psa_labels
from agents.facts.classification import SENSITIVE_CLASSES, normalise_classification, regulations_for
from agents.facts.derived import Facts
from agents.facts.identity import automounts_token
from agents.identity_map import build_identity_map
from workflow.domain.inventory import Inventory
from workflow.domain.resources import CLUSTER_SCOPED_KINDS
from workflow.domain.scoring import SEVERITY_ORDER, RiskContext, adjust, severity
from workflow.domain.threat_model import (
    PHASES,
    AttackGraph,
    AttackPath,
    Finding,
    FindingStatus,
    Origin,
    Phase,
    Severity,
    Stride,
    Summary,
)

__all__ = ["MERGE_THRESHOLD", "Review", "gate_scores", "merge_findings", "review",
           "risk_context", "similarity"]

#: Text similarity (0-1) above which overlapping findings are taken for the same threat.
MERGE_THRESHOLD = 0.5
_STOP = frozenset("a an and are as at be by can for from has have in is it its may of on or "
                  "that the this to with without".split())
_WORD = re.compile(r"[a-z0-9]+")
#: Findings of this kind disclose data: classified data raises their impact.
_DATA_HARM = frozenset({Stride.INFORMATION_DISCLOSURE})
#: Subjects a counted-once harm is about, by harm (docs/SEVERITY.md, principle 6).
_HARM_SUBJECT_KINDS: dict[str, tuple[str, ...]] = {
    "node": (),  # the workload: the finding's first resource
    "api-rights": ("ServiceAccount/", "User/", "Group/"),
}
#: At equal scores, the rule that states a counted-once harm most completely keeps it.
_HARM_ORDER: tuple[str, ...] = (
    "controls.privileged-container", "controls.host-process", "controls.container-runtime-socket",
    "controls.host-pid", "controls.hostpath-mount", "controls.capabilities-added",
    "controls.proc-mount", "network.host-network", "controls.host-ipc",
    "identity.cluster-admin", "identity.anonymous-access", "identity.escalation-verbs",
    "identity.webhook-write", "identity.nodes-proxy", "identity.secrets-read",
    "identity.create-workloads", "identity.pod-exec", "identity.human-broad-rights",
    "identity.default-sa-bound", "identity.automount-with-rights")
#: Rules whose risk an admission policy (policy engine or PSA enforcement) blocks.
_ADMISSION_MITIGATED = ("controls.", "network.host-network", "network.host-port",
                        "identity.create-workloads")


class Review(BaseModel):
    """What the reviewer adds to the threat model."""

    model_config = ConfigDict(frozen=True)

    findings: tuple[Finding, ...]
    attack_paths: tuple[AttackPath, ...] = ()
    attack_graph: AttackGraph = AttackGraph()
    summary: Summary
    compliance: dict[str, Any] = Field(default_factory=dict)
    identity_map: list[dict[str, Any]] = Field(default_factory=list)
    adjustments: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="Finding id -> why its likelihood/impact moved.")


# ---- merging ----------------------------------------------------------------------------------
def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


def similarity(a: Finding, b: Finding) -> float:
    """How alike two findings read (0-1): the better of title ratio and word overlap."""
    ratio = SequenceMatcher(None, a.title.lower(), b.title.lower()).ratio()
    wa, wb = _words(a.title + " " + a.description), _words(b.title + " " + b.description)
    jaccard = len(wa & wb) / len(wa | wb) if wa and wb else 0.0
    title_a, title_b = _words(a.title), _words(b.title)
    overlap = (len(title_a & title_b) / min(len(title_a), len(title_b))
               if title_a and title_b else 0.0)
    return max(ratio, jaccard, overlap * 0.9)


def _resource_overlap(a: Finding, b: Finding) -> float:
    ra, rb = set(a.resources), set(b.resources)
    if not ra or not rb:
        return 0.0
    if ra <= rb or rb <= ra:
        return 1.0
    return len(ra & rb) / len(ra | rb)


def _union(first: Iterable[Any], second: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys((*first, *second)))


def _absorb(keep: Finding, other: Finding, *, record: bool) -> Finding:
    update: dict[str, Any] = {
        "evidence": _union(keep.evidence, other.evidence),
        "citations": _union(keep.citations, other.citations),
        "references": _union(keep.references, other.references),
        "notes": _union(keep.notes, other.notes),
    }
    if record:
        update["merged_from"] = _union(keep.merged_from, (other.id, *other.merged_from))
        update["origin"] = Origin.MERGED
        if not keep.rationale and other.rationale:
            update["rationale"] = other.rationale
    if keep.severity_override is None and other.severity_override is not None:
        update["severity_override"] = other.severity_override
    return keep.model_copy(update=update)


def merge_findings(findings: Sequence[Finding], *,
                   threshold: float = MERGE_THRESHOLD) -> list[Finding]:
    """De-duplicate: same fingerprint, then model findings near-duplicating another finding.

    Rule findings are never merged into each other (each rule is its own claim); a model
    finding merges into the most similar rule (or earlier model) finding that shares its
    resources, provided the texts are similar enough.
    """
    by_id: dict[str, Finding] = {}
    for item in findings:
        if item.id in by_id:
            by_id[item.id] = _absorb(by_id[item.id], item, record=False)
        else:
            by_id[item.id] = item
    rules = sorted((f for f in by_id.values() if f.origin != Origin.LLM), key=lambda f: f.id)
    models = sorted((f for f in by_id.values() if f.origin == Origin.LLM), key=lambda f: f.id)
    kept: dict[str, Finding] = {f.id: f for f in rules}
    for item in models:
        best: tuple[float, str] | None = None
        for other in kept.values():
            if _resource_overlap(item, other) < 0.5:
                continue
            value = similarity(item, other)
            if value >= threshold and (best is None or value > best[0]):
                best = (value, other.id)
        if best is None:
            kept[item.id] = item
        else:
            kept[best[1]] = _absorb(kept[best[1]], item, record=True)
    return list(kept.values())


# ---- scoring context --------------------------------------------------------------------------
def _exposed_resources(facts: Facts) -> set[str]:
    """Workloads, entry points and service accounts reachable from outside the cluster network.

    Outside means the internet (a public load balancer, an Ingress or gateway, external IPs) or
    the nodes' network (a NodePort): the service accounts are those whose token an exposed pod
    mounts.
    """
    inv = facts.inventory
    out: set[str] = set()
    for wl_id, ways in facts.exposures.items():
        public = [e for e in ways if e.internet or e.kind == "NodePort"]
        if not public:
            continue
        out.add(wl_id)
        out.update(e.entry for e in public)
        wl = inv.workload(wl_id)
        if wl is not None and automounts_token(inv, wl):
            out.add(wl.service_account_id)
    return out


def _namespace_of(inv: Inventory, resource: str) -> str | None:
    res = inv.get(resource)
    if res is not None:
        return res.namespace or (res.name if res.kind == "Namespace" else None)
    parts = resource.split("/")
    return parts[1] if len(parts) == 3 else None


def _admission_enforced(inv: Inventory) -> tuple[bool, set[str]]:
    engines = bool(policy_engines(inv))
    enforced = {ns for ns in inv.namespaces
                if psa_labels(inv, ns).get("enforce") in {"baseline", "restricted"}}
    return engines, enforced


def _level(facts: Facts, resource: str, default: str | None) -> str | None:
    """A resource's classification, else the application's (when the resource is in it)."""
    own = facts.classification(resource)
    return own if own is not None else (default if resource in facts.inventory else None)


def risk_context(facts: Facts, finding: Finding, *, exposed: set[str], engines: bool,
                 enforced: set[str], default_class: str | None = None,
                 counted_with: str | None = None, attack_path: str = "") -> RiskContext:
    """The modifiers that apply to one finding."""
    inv = facts.inventory
    meta = rule_meta(finding.rule)
    resources = finding.resources
    kinds = {r.split("/", 1)[0] for r in resources}
    per_node = meta.per_node if meta is not None else True
    cluster_wide = (finding.id.endswith("#cluster")
                    or bool(kinds & {"ClusterRoleBinding", "MutatingWebhookConfiguration",
                                     "ValidatingWebhookConfiguration"})
                    or (per_node and "DaemonSet" in kinds)
                    or any(r.split("/", 1)[0] in CLUSTER_SCOPED_KINDS - {"Namespace"}
                           and r in inv for r in resources))
    sensitive = bool(set(finding.stride) & _DATA_HARM) and any(
        _level(facts, r, default_class) in SENSITIVE_CLASSES for r in resources)
    namespace = _namespace_of(inv, resources[0]) if resources else None
    mitigated = finding.rule.startswith(_ADMISSION_MITIGATED) and (
        engines or (namespace is not None and namespace in enforced)) and not (
        finding.rule.startswith(("controls.namespace-without-psa", "controls.no-admission",
                                 "controls.webhook-")))
    starts_at_service = meta.starts_at_service if meta is not None else True
    return RiskContext(
        internet_exposed=starts_at_service and finding.phase is not Phase.RISK_REVIEW
        and any(r in exposed for r in resources),
        reach_is_enough=meta is not None and meta.reach_is_enough,
        sensitive_data=sensitive, cluster_wide=cluster_wide, mitigated=mitigated,
        attack_path=attack_path, counted_with=counted_with, unseen=finding.unseen)


def _rescore(facts: Facts, finding: Finding, context: RiskContext,
             default_class: str | None = None) -> tuple[Finding, tuple[str, ...]]:
    question = finding.status == FindingStatus.QUESTION
    if question:
        context = RiskContext()
    adjusted = adjust(finding.likelihood, finding.impact, context)
    value = adjusted.score
    band = finding.severity_override or severity(value)
    extra: tuple[str, ...] = ()
    if context.sensitive_data or question:
        levels = {_level(facts, r, default_class) for r in finding.resources}
        extra = tuple(ref for level in sorted(x for x in levels if x) for ref in
                      regulations_for(level))
    update: dict[str, Any] = {"likelihood": adjusted.likelihood, "impact": adjusted.impact,
                              "score": value, "severity": band,
                              "references": _union(finding.references, extra)}
    return finding.model_copy(update=update), adjusted.reasons


def _harm_key(finding: Finding) -> tuple[str, str] | None:
    """(harm, subject) of a finding whose harm other findings may give the same subject."""
    meta = rule_meta(finding.rule)
    if meta is None or not meta.harm or not finding.resources or not finding.is_open \
            or finding.status == FindingStatus.QUESTION:
        return None
    if meta.harm == "container":  # joins the workload's node harm, if it has one
        return ("container", "")
    prefixes = _HARM_SUBJECT_KINDS.get(meta.harm, ())
    subject = next((r for r in finding.resources if r.startswith(prefixes)), None) \
        if prefixes else finding.resources[0]
    return (meta.harm, subject) if subject else None


def _counted_once(scored: Sequence[Finding]) -> dict[str, str]:
    """Finding id -> the stronger finding that already counts its harm on the same subject.

    In each group the finding with the highest score is kept (at equal scores the one about the
    subject itself, then the rule that states the harm most completely, then the first id);
    every other one is counted with it.
    """
    groups: dict[tuple[str, str], list[Finding]] = {}
    for item in scored:
        key = _harm_key(item)
        if key is not None:
            groups.setdefault(key, []).append(item)
    hardening = groups.pop(("container", ""), [])
    out: dict[str, str] = {}
    for (_, subject), items in groups.items():
        ordered = sorted(items, key=lambda f: (
            -f.score, f.resources[0] != subject,
            _HARM_ORDER.index(f.rule) if f.rule in _HARM_ORDER else len(_HARM_ORDER), f.id))
        out.update({item.id: ordered[0].id for item in ordered[1:]})
    primaries = {subject: out.get(items[0].id, items[0].id)
                 for (harm, subject), items in groups.items() if harm == "node"}
    for item in hardening:
        if item.resources[0] in primaries:
            out[item.id] = primaries[item.resources[0]]
    return out


def _rank_key(finding: Finding, repeats: set[str] | frozenset[str] = frozenset()
              ) -> tuple[int, int, int, float, int, int, str]:
    closed = 0 if finding.is_open else 1
    return (closed, SEVERITY_ORDER.index(finding.severity), 1 if finding.id in repeats else 0,
            -finding.score, -finding.likelihood, -finding.impact, finding.id)


def _rank(scored: Sequence[Finding], counted: dict[str, str]) -> tuple[Finding, ...]:
    """Open findings by band; in a band, each risk once before its repeats; then score.

    A repeat is a finding of a rule that already ranks higher (the same weakness on another
    subject) or a harm counted with a stronger finding: every occurrence keeps its severity,
    but the top of the list shows different risks. At equal scores, the finding that needs
    less of the attacker first, then the greater harm.
    """
    seen: set[str] = set()
    repeats: set[str] = set()
    for item in sorted(scored, key=_rank_key):
        if item.id in counted or item.rule in seen:
            repeats.add(item.id)
        if item.is_open:
            seen.add(item.rule)
    return tuple(sorted(scored, key=lambda f: _rank_key(f, repeats)))


def _summary(findings: Sequence[Finding], dropped: int) -> Summary:
    by_severity = Counter(f.severity.value for f in findings)
    by_phase = Counter(f.phase.value for f in findings)
    live = [f.severity for f in findings
            if f.is_open and f.status != FindingStatus.QUESTION]
    overall = next((band for band in SEVERITY_ORDER if band in live), Severity.INFO)
    return Summary(
        total=len(findings),
        by_severity={band.value: by_severity.get(band.value, 0) for band in SEVERITY_ORDER},
        by_phase={phase.value: by_phase.get(phase.value, 0) for phase in PHASES},
        overall_risk=overall, model_items_dropped=dropped)


@dataclass(frozen=True)
class _Surroundings:
    """What scoring reads of the inventory besides a finding (computed once per review)."""

    exposed: set[str]
    engines: bool
    enforced: set[str]
    default_class: str | None


def _surroundings(facts: Facts, data_classification: str | None) -> _Surroundings:
    engines, enforced = _admission_enforced(facts.inventory)
    return _Surroundings(exposed=_exposed_resources(facts), engines=engines, enforced=enforced,
                         default_class=normalise_classification(data_classification))


def _score_once(facts: Facts, findings: Iterable[Finding], around: _Surroundings,
                on_path: dict[str, str], counted: dict[str, str]
                ) -> list[tuple[Finding, tuple[str, ...]]]:
    return [_rescore(facts, item, risk_context(
        facts, item, exposed=around.exposed, engines=around.engines, enforced=around.enforced,
        default_class=around.default_class, counted_with=counted.get(item.id),
        attack_path=on_path.get(item.id, "")), around.default_class) for item in findings]


def _score_all(facts: Facts, findings: Sequence[Finding], around: _Surroundings,
               on_path: dict[str, str]
               ) -> tuple[list[Finding], dict[str, tuple[str, ...]], dict[str, str]]:
    """Scored findings, why each score moved, and which harms are counted with another.

    Scored twice when some harm is shared: the first scores decide which finding of a group is
    the strongest, the second lowers the others.
    """
    first = _score_once(facts, findings, around, on_path, {})
    counted = _counted_once([item for item, _ in first])
    final = _score_once(facts, findings, around, on_path, counted) if counted else first
    return ([item for item, _ in final], {item.id: why for item, why in final if why},
            counted)


def gate_scores(facts: Facts, findings: Sequence[Finding], *,
                data_classification: str | None = None) -> list[Finding]:
    """Findings scored as the reviewer will publish them, for a gate before the reviewer runs.

    The reviewer's own scoring (exposure, sensitive data, blast radius, mitigations, a
    reviewer's severity override), with ``score_factors`` saying why a score moved. One
    modifier cannot be known yet: the attack paths are built by the reviewer, so a finding it
    chains into a path is published with likelihood +1 (its score may rise).
    """
    scored, reasons, _ = _score_all(facts, findings,
                                    _surroundings(facts, data_classification), {})
    return [f.model_copy(update={"score_factors": reasons.get(f.id, ())}) for f in scored]


def review(facts: Facts, findings: Sequence[Finding], *, model_items_dropped: int = 0,
           merge_threshold: float = MERGE_THRESHOLD,
           data_classification: str | None = None,
           model_paths: Sequence[dict[str, Any]] = ()) -> Review:
    """Merge duplicates, build attack paths, score in code, rank, and summarise.

    Args:
        facts: the run's facts.
        findings: every phase's findings (rules and model), as the phases left them.
        model_items_dropped: model items the phases dropped, carried into the summary.
        merge_threshold: text similarity above which overlapping findings merge.
        data_classification: the application's classification (``--classification``), used
            for resources that carry none of their own (e.g. ``pci``, ``personal``).
        model_paths: attack paths the model proposed in the risk review (kept when the graph
            holds every step, else dropped and counted).
    """
    merged = merge_findings(findings, threshold=merge_threshold)
    analysis = analyse(facts.with_findings([f for f in merged if f.is_open]),
                       proposals=model_paths)
    paths = analysis.paths
    around = _surroundings(facts, data_classification)
    scored, reasons, counted = _score_all(facts, merged, around, analysis.raising())
    ranked = _rank(scored, counted)
    return Review(findings=ranked, attack_paths=paths, attack_graph=analysis.graph_model(),
                  summary=_summary(ranked, model_items_dropped),
                  compliance=build_compliance(facts, ranked,
                                              data_classification=around.default_class),
                  identity_map=build_identity_map(facts), adjustments=reasons)
