"""Model enrichment of one phase: prompt, budget, cache, grounding.

:func:`enrich_phase` asks the local model for threats the rules cannot see and for
recommendations on the rule findings, then keeps only what is grounded:

- the prompt is the system prompt plus the phase prompt, filled with a compact view of the
  inventory facts relevant to the phase, the phase's rule findings (ids and titles), the
  retrieved passages (ids and text), the architecture and review notes, and the reviewer's
  guidance. Manifest text and notes are wrapped in data sections; the system prompt tells the
  model they are data, never instructions;
- the context is budgeted explicitly (:class:`Budget`); what does not fit is trimmed in a fixed
  order (lowest-ranked passages first, then the lowest-priority inventory facts, then the
  lowest-scored rule findings, then the end of the notes) and every trimmed item is recorded;
- the answer is validated item by item: unknown resources, unknown citations, unknown finding
  ids, invalid values, empty and duplicate items are dropped and counted. Scores and severities
  are computed by :mod:`workflow.domain.scoring`; framework references are never taken from the
  model;
- enrichment only ever *adds* findings and recommendations. It has no way to remove, change or
  lower a rule finding, so instructions smuggled into manifests or notes cannot weaken the model;
- a model failure (host down, timeout, invalid after re-asks) is returned as ``degradation`` and
  never raised: the phase keeps its rule findings.

Token counting uses :func:`estimate_tokens` (``ceil(characters / 3.5)``, deterministic and
slightly pessimistic for English and YAML-like text) so that the rendered prompt, and with it
the cache key, never depends on loading a model.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, Protocol

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import prompts
from agents.llm_cache import CachedAnswer, LlmCache, cache_key
from workflow.context import ModelClient, Passage
from workflow.domain.errors import KtmbError, RunError
from workflow.domain.inventory import Inventory
from workflow.domain.resources import WORKLOAD_KINDS, Resource, Workload
from workflow.domain.scoring import score, severity
from workflow.domain.threat_model import Finding, LlmInfo, Origin, Phase, PromptRef, Stride

__all__ = [
    "DROP_REASONS",
    "Budget",
    "EnrichmentResult",
    "FindingRecommendation",
    "NoteLike",
    "NotesInput",
    "PhaseAnswer",
    "PreparedPrompt",
    "RawPhaseAnswer",
    "ThreatProposal",
    "Usage",
    "enrich_phase",
    "estimate_tokens",
    "inventory_facts",
    "llm_fingerprint",
    "prepare_prompt",
]

log = structlog.get_logger(__name__)

MAX_TITLE = 160
MAX_TEXT = 2000
MAX_THREATS = 5
MAX_RECOMMENDATIONS = 20
_ANNOTATION_CHARS = 160
_RULE_TEXT_CHARS = 240
_SKIPPED_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})
_DATA_TAGS = re.compile(r"<(/?)(inventory|rule_findings|passages|notes|reviewer_guidance)\b",
                        re.IGNORECASE)

#: Why a model item can be dropped.
DROP_REASONS = ("invalid", "empty", "duplicate", "unknown_resource", "no_known_resource",
                "unknown_citation", "unknown_finding")


# ---- the answer schema --------------------------------------------------------------------------
Score = Literal[1, 2, 3, 4, 5]


class ThreatProposal(BaseModel):
    """A threat the model proposes."""

    model_config = ConfigDict(extra="ignore")

    title: str = Field(description="Short name of the threat.")
    description: str = Field(description="Who attacks, how, and what it leads to.")
    stride: list[Stride] = Field(min_length=1, description="STRIDE categories.")
    resources: list[str] = Field(
        min_length=1, description="Affected resources: exact ids from <inventory>.")
    likelihood: Score = Field(description="1 (very unlikely) to 5 (very likely).")
    impact: Score = Field(description="1 (negligible) to 5 (severe).")
    rationale: str = Field(description="Why this likelihood and impact, from the facts.")
    recommendation: str = Field(description="One concrete mitigation.")
    citations: list[str] = Field(description="Supporting passages: exact ids from <passages>.")


class FindingRecommendation(BaseModel):
    """A recommendation for an existing rule finding."""

    model_config = ConfigDict(extra="ignore")

    finding_id: str = Field(description="Exact id from <rule_findings>.")
    recommendation: str = Field(description="What to do, specific to this application.")


class PhaseAnswer(BaseModel):
    """What the model may answer (the JSON schema sent for constrained decoding).

    Every field is required, so a constrained decoder cannot stop at ``{}``.
    """

    threats: list[ThreatProposal] = Field(max_length=MAX_THREATS)
    recommendations: list[FindingRecommendation] = Field(max_length=MAX_RECOMMENDATIONS)


class RawPhaseAnswer(BaseModel):
    """The answer's envelope, validated leniently so that items are judged one by one.

    Its JSON schema is :class:`PhaseAnswer`'s, so the model is constrained to the strict form,
    while an invalid item (say likelihood 9) costs only that item, not the whole answer.
    """

    threats: list[dict[str, Any]] = Field(default_factory=list)
    recommendations: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The strict schema of :class:`PhaseAnswer`."""
        return PhaseAnswer.model_json_schema(*args, **kwargs)


# ---- results ------------------------------------------------------------------------------------
class Usage(BaseModel):
    """What a phase cost."""

    model_config = ConfigDict(frozen=True)

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_calls: int = 0

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


class Budget(BaseModel):
    """The context budget of one model call.

    Attributes:
        num_ctx: the context window requested from the model (sent on every call).
        max_output_tokens: tokens kept free for the answer.
        max_prompt_tokens: the most tokens system and phase prompt may take together (a cost
            cap: eight phases x (2,400 + answer) stay under 25,000 tokens per application).
        min_passages: the best passages kept while inventory facts are trimmed; only when
            facts alone do not fit are these trimmed too (still the lowest-ranked first).
    """

    model_config = ConfigDict(frozen=True)

    num_ctx: int = Field(default=8192, ge=512)
    max_output_tokens: int = Field(default=1024, ge=64)
    max_prompt_tokens: int = Field(default=2400, ge=128)
    min_passages: int = Field(default=2, ge=0)

    @property
    def prompt_limit(self) -> int:
        """Tokens the prompt may use."""
        return min(self.max_prompt_tokens, self.num_ctx - self.max_output_tokens)


class EnrichmentResult(BaseModel):
    """What enrichment adds to a phase (it never removes or changes anything)."""

    model_config = ConfigDict(frozen=True)

    phase: Phase
    findings: tuple[Finding, ...] = Field(default=(), description="New model findings.")
    recommendations: dict[str, str] = Field(
        default_factory=dict, description="Rule finding id -> the model's recommendation.")
    proposed: int = Field(default=0, description="Model items examined (see drops).")
    dropped: int = 0
    drops: dict[str, int] = Field(default_factory=dict, description="Dropped items by reason.")
    prompt_ref: PromptRef | None = None
    system_prompt_ref: PromptRef | None = None
    llm: LlmInfo | None = None
    usage: Usage = Usage()
    prompt_tokens_estimate: int = 0
    trimmed: tuple[str, ...] = Field(
        default=(), description="Passage ids left out to fit the token budget.")
    trimmed_facts: tuple[str, ...] = Field(
        default=(), description="Other inputs left out: resource:<id>, finding:<id>, notes:<n>.")
    cache_key: str | None = None
    cache_error: str | None = None
    degradation: str | None = Field(
        default=None, description="Why the model could not help; the phase keeps its rules.")


# ---- tokens and text ----------------------------------------------------------------------------
def estimate_tokens(text: str) -> int:
    """Estimated tokens of ``text``: ``ceil(len(text) / 3.5)``.

    BPE tokenizers of current small models average about 4 characters per token on English and
    fewer on identifiers and YAML; 3.5 errs on the side of more tokens.
    """
    return math.ceil(len(text) / 3.5)


def _clip(text: str, limit: int) -> str:
    """Shorten a value visibly (never silently): the omitted length is stated."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return f"{flat[:limit]}…(+{len(flat) - limit} chars)"


def _data(text: str) -> str:
    """Neutralise our own section tags inside data, so data cannot close its section."""
    return _DATA_TAGS.sub(lambda m: f"&lt;{m.group(1)}{m.group(2)}", text)


def _slug(text: str, limit: int = 60) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "threat"


def llm_fingerprint(phase: Phase, resource: str, title: str) -> str:
    """The stable id of a model finding: ``llm.<phase>@<resource>#<slug of title>``."""
    return f"llm.{phase.value}@{resource}#{_slug(title)}"


# ---- inventory facts ----------------------------------------------------------------------------
_PHASE_KINDS: dict[Phase, tuple[str, ...]] = {
    Phase.ARCHITECTURE: ("Namespace", "*workloads", "Service", "Ingress", "IngressClass",
                         "Gateway", "HTTPRoute", "VirtualService", "ServiceEntry",
                         "APIService"),
    Phase.IDENTITY: ("ServiceAccount", "Role", "ClusterRole", "RoleBinding",
                     "ClusterRoleBinding", "*workloads", "Namespace"),
    Phase.DATA: ("Secret", "ConfigMap", "PersistentVolumeClaim", "PersistentVolume",
                 "StorageClass", "*workloads", "SealedSecret", "ExternalSecret",
                 "SecretProviderClass"),
    Phase.LOGGING: ("DaemonSet", "*workloads", "ConfigMap", "Namespace", "Service",
                    "ServiceMonitor", "PrometheusRule"),
    Phase.NETWORK: ("NetworkPolicy", "Service", "Ingress", "*workloads", "Namespace", "Gateway",
                    "HTTPRoute", "VirtualService", "AuthorizationPolicy", "PeerAuthentication",
                    "DestinationRule", "ServiceEntry", "CiliumNetworkPolicy"),
    Phase.CONTROLS: ("*workloads", "Namespace", "MutatingWebhookConfiguration",
                     "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy",
                     "PodSecurityPolicy", "LimitRange", "ResourceQuota", "PodDisruptionBudget",
                     "ClusterPolicy", "Policy", "ConstraintTemplate", "RuntimeClass"),
    Phase.COMPLIANCE: ("Namespace", "*workloads", "Service", "Ingress", "NetworkPolicy",
                       "ClusterRoleBinding", "RoleBinding"),
    Phase.RISK_REVIEW: ("Ingress", "Service", "*workloads", "ServiceAccount",
                        "ClusterRoleBinding", "RoleBinding", "NetworkPolicy"),
}


def _meta_bits(res: Resource) -> list[str]:
    bits = []
    notes = {k: v for k, v in res.annotations.items() if k not in _SKIPPED_ANNOTATIONS}
    if notes:
        bits.append("annotations={" + ", ".join(
            f"{k}: {_clip(v, _ANNOTATION_CHARS)}" for k, v in sorted(notes.items())) + "}")
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


def _network_bits(wl: Workload, phase: Phase) -> list[str]:
    bits = []
    ports = sorted({f"{p.get('containerPort')}" + (f"(host {p['hostPort']})"
                                                   if p.get("hostPort") else "")
                    for c in wl.pod.containers for p in c.ports})
    if ports:
        bits.append("ports=[" + ",".join(ports) + "]")
    if phase is Phase.NETWORK and wl.pod.labels:
        bits.append("podLabels={" + ",".join(
            f"{k}={v}" for k, v in sorted(wl.pod.labels.items())) + "}")
    return bits


def _workload_line(wl: Workload, res: Resource, phase: Phase) -> str:
    pod = wl.pod
    images = ",".join(c.image for c in pod.containers) or "none"
    bits = [f"{wl.kind} images=[{images}]", f"runs-as={wl.service_account_id}"]
    replicas = res.get("/spec/replicas")
    if isinstance(replicas, int):
        bits.append(f"replicas={replicas}")
    flags = [name for name in ("hostNetwork", "hostPID", "hostIPC") if pod.flag(name)]
    if flags:
        bits.append("host=" + ",".join(flags))
    if phase in (Phase.IDENTITY, Phase.RISK_REVIEW, Phase.CONTROLS):
        token = pod.automount_token
        bits.append("automountToken=" + ("unset" if token is None else json.dumps(token)))
    if phase in (Phase.DATA, Phase.LOGGING, Phase.CONTROLS, Phase.RISK_REVIEW):
        bits.extend(_volume_bits(wl))
    if phase in (Phase.DATA, Phase.RISK_REVIEW):
        bits.extend(_secret_ref_bits(wl))
    if phase in (Phase.NETWORK, Phase.ARCHITECTURE):
        bits.extend(_network_bits(wl, phase))
    if phase is Phase.CONTROLS:
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
            f"ingress={_clip(json.dumps(list(pol.ingress)), 200)} "
            f"egress={_clip(json.dumps(list(pol.egress)), 200)}")


def _role_line(inv: Inventory, res: Resource) -> str:
    rules = [r for r in res.raw.get("rules") or [] if isinstance(r, dict)]
    body = f"{res.kind} rules=[{_clip('; '.join(_rule_text(r) for r in rules), 400)}]"
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
    return f"{res.kind} spec={_clip(text, 200)}"


_LINES: dict[str, Callable[[Inventory, Resource], str]] = {
    "Service": _service_line, "Ingress": _ingress_line, "NetworkPolicy": _policy_line,
    "Role": _role_line, "ClusterRole": _role_line, "RoleBinding": _binding_line,
    "ClusterRoleBinding": _binding_line, "ServiceAccount": _account_line,
    "Secret": _keys_line, "ConfigMap": _keys_line, "Namespace": _namespace_line,
    "PersistentVolumeClaim": _spec_line, "PersistentVolume": _spec_line,
    "StorageClass": _spec_line,
}


def _resource_line(inv: Inventory, res: Resource, phase: Phase) -> str:
    """One compact fact line about a resource (without the id)."""
    wl = inv.workload(res.id)
    if wl is not None:
        body = _workload_line(wl, res, phase)
    elif res.kind in _LINES:
        body = _LINES[res.kind](inv, res)
    else:
        body = res.kind if res.known else f"{res.kind} (not analysed by rules)"
    return "; ".join([body, *_meta_bits(res)])


def inventory_facts(inv: Inventory, phase: Phase,
                    must_include: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The inventory facts shown for ``phase``: ``(resource id, line)``, most important first.

    Resources named by the phase's rule findings come first, then the kinds the phase is about.
    """
    order: list[str] = []
    for rid in must_include:
        if rid in inv and rid not in order:
            order.append(rid)
    for kind in _PHASE_KINDS[phase]:
        kinds = tuple(WORKLOAD_KINDS) if kind == "*workloads" else (kind,)
        for res in inv.of_kind(*kinds):
            if res.id not in order:
                order.append(res.id)
    facts = []
    for rid in order:
        res = inv.resources[rid]
        facts.append((rid, f"- {rid}: {_data(_resource_line(inv, res, phase))}"))
    return facts


def _finding_line(finding: Finding) -> str:
    resources = ",".join(finding.resources[:4]) + (
        f",+{len(finding.resources) - 4} more" if len(finding.resources) > 4 else "")
    return (f"- {finding.id}: {_data(_clip(finding.title, _RULE_TEXT_CHARS))} "
            f"[{finding.severity.value}; resources: {resources}]")


def _passage_block(passage: Passage) -> str:
    source = passage.document + (f" § {passage.section}" if passage.section else "")
    return f'<passage id="{passage.chunk_id}" source="{_data(source)}">\n' \
           f"{_data(passage.text.strip())}\n</passage>"


# ---- prompt assembly with an explicit budget ----------------------------------------------------
class NoteLike(Protocol):
    """A notes file: ``workflow.domain.inputs.Notes`` or anything with ``path`` and ``text``."""

    @property
    def path(self) -> str:
        """Where the notes came from."""
        ...

    @property
    def text(self) -> str:
        """The (redacted) text."""
        ...


#: Architecture and review notes as enrichment accepts them.
NotesInput = str | Sequence[str | NoteLike] | None


def _notes_text(notes: NotesInput) -> str:
    if notes is None:
        return ""
    if isinstance(notes, str):
        return notes.strip()
    parts = []
    for item in notes:
        if isinstance(item, str):
            parts.append(item.strip())
        else:
            parts.append(f"[{item.path}]\n{item.text.strip()}")
    return "\n\n---\n\n".join(p for p in parts if p)


class PreparedPrompt(BaseModel):
    """A phase prompt rendered within its budget, and what it shows the model."""

    system_ref: PromptRef
    phase_ref: PromptRef
    system: str
    prompt: str
    tokens: int
    shown_resources: frozenset[str]
    shown_passages: dict[str, Passage]
    shown_findings: frozenset[str]
    trimmed: list[str]
    trimmed_facts: list[str]
    fits: bool


def _assemble(phase_prompt: prompts.Prompt, system: prompts.Prompt, *, facts: list[tuple[str, str]],
              findings: list[Finding], passages: list[Passage], notes: str, guidance: str,
              header: dict[str, str], budget: Budget,
              count: Callable[[str], int]) -> PreparedPrompt:
    """Render the phase prompt, trimming in a fixed order until it fits ``budget``.

    Order: passages beyond the best ``min_passages`` (lowest-ranked first), inventory facts
    (lowest priority first, at least one kept), the remaining passages, rule findings (lowest
    score first), then the end of the notes (with a visible marker).
    """
    system_text = system.render()
    findings = sorted(findings, key=lambda f: (-f.score, f.id))
    passages = list(passages)
    facts = list(facts)
    notes_kept = notes
    trimmed: list[str] = []
    trimmed_facts: list[str] = []
    counts = Counter(res.split("/", 1)[0] for res, _ in facts)
    summary = "Resource counts: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))

    def render() -> tuple[str, int]:
        fact_text = "\n".join([summary, *(line for _, line in facts)]) if facts else "none"
        if trimmed_facts:
            fact_text += f"\n({sum(1 for t in trimmed_facts if t.startswith('resource:'))} " \
                         "more resources not shown to fit the context)"
        text = phase_prompt.render(
            **header,
            inventory=fact_text,
            findings="\n".join(_finding_line(f) for f in findings) or "none",
            passages="\n".join(_passage_block(p) for p in passages) or "none",
            notes=_data(notes_kept) or "none",
            guidance=_data(guidance) or "none")
        return text, count(system_text) + count(text)

    text, tokens = render()
    limit = budget.prompt_limit
    while tokens > limit and len(passages) > budget.min_passages:
        trimmed.append(passages.pop().chunk_id)
        text, tokens = render()
    while tokens > limit and len(facts) > 1:
        trimmed_facts.append(f"resource:{facts.pop()[0]}")
        text, tokens = render()
    while tokens > limit and passages:
        trimmed.append(passages.pop().chunk_id)
        text, tokens = render()
    while tokens > limit and findings:
        trimmed_facts.append(f"finding:{findings.pop().id}")
        text, tokens = render()
    if tokens > limit and notes_kept:
        excess_chars = math.ceil((tokens - limit) * 3.5) + 80
        keep = max(0, len(notes_kept) - excess_chars)
        omitted = len(notes_kept) - keep
        notes_kept = notes_kept[:keep] + f"\n[... {omitted} characters of notes omitted " \
                                          "to fit the context]"
        trimmed_facts.append(f"notes:{omitted}")
        text, tokens = render()
    return PreparedPrompt(
        system_ref=system.ref, phase_ref=phase_prompt.ref,
        system=system_text, prompt=text, tokens=tokens, shown_resources=frozenset(
            {rid for rid, _ in facts} | {r for f in findings for r in f.resources}),
        shown_passages={p.chunk_id: p for p in passages},
        shown_findings=frozenset(f.id for f in findings), trimmed=trimmed,
        trimmed_facts=trimmed_facts, fits=tokens <= limit)


# ---- grounding ----------------------------------------------------------------------------------
class _Grounded(BaseModel):
    findings: list[Finding]
    recommendations: dict[str, str]
    proposed: int
    drops: Counter[str]


def _text_ok(value: str, limit: int) -> bool:
    return bool(value.strip()) and len(value) <= limit


def _threat_problem(item: ThreatProposal) -> str | None:
    texts = (item.title, item.description, item.recommendation)
    if not all(t.strip() for t in texts):
        return "empty"
    if len(item.title) > MAX_TITLE or any(len(t) > MAX_TEXT for t in texts[1:]):
        return "invalid"
    return None


def _ground_threat(raw: dict[str, Any], *, phase: Phase, assembly: PreparedPrompt, llm: LlmInfo,
                   kept: dict[str, Finding], drops: Counter[str]) -> int:
    """Add one grounded threat to ``kept`` or count why not; return the items examined."""
    try:
        item = ThreatProposal.model_validate(raw)
    except ValidationError:
        drops["invalid"] += 1
        return 1
    problem = _threat_problem(item)
    if problem is not None:
        drops[problem] += 1
        return 1
    resources: list[str] = []
    for ref in item.resources:
        if ref not in assembly.shown_resources:
            drops["unknown_resource"] += 1
        elif ref in resources:
            drops["duplicate"] += 1
        else:
            resources.append(ref)
    citations: list[Passage] = []
    for ref in item.citations:
        passage = assembly.shown_passages.get(ref)
        if passage is None:
            drops["unknown_citation"] += 1
        elif passage in citations:
            drops["duplicate"] += 1
        else:
            citations.append(passage)
    examined = 1 + len(item.resources) + len(item.citations)
    if not resources:
        drops["no_known_resource"] += 1
        return examined
    fid = llm_fingerprint(phase, resources[0], item.title)
    if fid in kept:
        drops["duplicate"] += 1
        return examined
    value = score(item.likelihood, item.impact)
    kept[fid] = Finding(
        id=fid, rule="llm", title=" ".join(item.title.split()),
        description=item.description.strip(), phase=phase,
        stride=tuple(dict.fromkeys(item.stride)), resources=tuple(resources),
        likelihood=item.likelihood, impact=item.impact, score=value, severity=severity(value),
        recommendation=item.recommendation.strip(),
        citations=tuple(p.citation() for p in citations), origin=Origin.LLM,
        rationale=f"Proposed by the model {llm.provider}/{llm.model}, not by a rule: "
                  f"{item.rationale.strip() or 'no rationale given'}")
    return examined


def _ground_recommendation(raw: dict[str, Any], *, assembly: PreparedPrompt,
                           kept: dict[str, str], drops: Counter[str]) -> None:
    try:
        rec = FindingRecommendation.model_validate(raw)
    except ValidationError:
        drops["invalid"] += 1
        return
    if not rec.recommendation.strip():
        drops["empty"] += 1
    elif len(rec.recommendation) > MAX_TEXT:
        drops["invalid"] += 1
    elif rec.finding_id not in assembly.shown_findings:
        drops["unknown_finding"] += 1
    elif rec.finding_id in kept:
        drops["duplicate"] += 1
    else:
        kept[rec.finding_id] = rec.recommendation.strip()


def _ground(answer: RawPhaseAnswer, *, phase: Phase, assembly: PreparedPrompt,
            llm: LlmInfo) -> _Grounded:
    """Keep only grounded items; count every drop by reason.

    Items are: each threat, each recommendation, and each resource or citation reference of a
    threat that passed the schema. A threat left with no known resource is dropped as well.
    """
    drops: Counter[str] = Counter()
    kept: dict[str, Finding] = {}
    proposed = sum(_ground_threat(raw, phase=phase, assembly=assembly, llm=llm, kept=kept,
                                  drops=drops) for raw in answer.threats)
    recommendations: dict[str, str] = {}
    for raw in answer.recommendations:
        proposed += 1
        _ground_recommendation(raw, assembly=assembly, kept=recommendations, drops=drops)
    return _Grounded(findings=list(kept.values()), recommendations=recommendations,
                     proposed=proposed, drops=drops)


# ---- the entry points ----
def prepare_prompt(phase: Phase | str, inv: Inventory, findings: Sequence[Finding],
                   passages: Sequence[Passage], notes: NotesInput, guidance: str | None, *,
                   application: str = "application", cloud: str = "unspecified",
                   classification: str = "unspecified", budget: Budget | None = None,
                   prompt_version: int | None = None,
                   count_tokens: Callable[[str], int] = estimate_tokens) -> PreparedPrompt:
    """Render the system and phase prompts for ``phase`` within the budget (no model call).

    The arguments are those of :func:`enrich_phase`. Useful to inspect or measure a prompt.

    Raises:
        PromptError: when the prompt files are missing or malformed.
    """
    phase = Phase(phase)
    system = prompts.load("system")
    phase_prompt = prompts.load(phase.value, prompt_version)
    rule_resources = [r for f in findings for r in f.resources]
    return _assemble(
        phase_prompt, system, facts=inventory_facts(inv, phase, rule_resources),
        findings=list(findings), passages=list(passages), notes=_notes_text(notes),
        guidance=(guidance or "").strip(), budget=budget or Budget(), count=count_tokens,
        header={"application": _data(application), "cloud": _data(cloud),
                "classification": _data(classification)})


def enrich_phase(phase: Phase | str, inv: Inventory, findings: Sequence[Finding],
                 passages: Sequence[Passage], notes: NotesInput, guidance: str | None,
                 llm: ModelClient | None, cache: LlmCache | None = None, *,
                 application: str = "application", cloud: str = "unspecified",
                 classification: str = "unspecified", budget: Budget | None = None,
                 prompt_version: int | None = None,
                 count_tokens: Callable[[str], int] = estimate_tokens) -> EnrichmentResult:
    """Ask the model for what the rules cannot see, and keep only what is grounded.

    Args:
        phase: the phase.
        inv: the application's inventory.
        findings: the phase's rule findings (never modified; only ids and titles are shown).
        passages: retrieved passages, best first (the last ones are trimmed first).
        notes: architecture and review notes (text, or items with ``path`` and ``text``).
        guidance: the reviewer's guidance on a rerun, if any.
        llm: the model, or None when the run has no model (``--llm off``).
        cache: the answer cache; None calls the model every time.
        application: the application's name, shown in the prompt.
        cloud: the target cloud (eks, gke, aks, on-prem), shown in the prompt.
        classification: the data classification, shown in the prompt.
        budget: the context budget.
        prompt_version: the phase prompt version (the newest when None).
        count_tokens: the token counter used for the budget.

    Returns:
        New model findings, recommendations for rule findings, counts, usage, what was trimmed,
        and ``degradation`` when the model could not help. Model failures are never raised.

    Raises:
        PromptError: when the prompt files are missing or malformed (a packaging error).
    """
    phase = Phase(phase)
    if llm is None:
        return EnrichmentResult(phase=phase)
    budget = budget or Budget()
    assembly = prepare_prompt(phase, inv, findings, passages, notes, guidance,
                              application=application, cloud=cloud,
                              classification=classification, budget=budget,
                              prompt_version=prompt_version, count_tokens=count_tokens)
    system_text = assembly.system
    info = llm.info
    base = {"phase": phase, "prompt_ref": assembly.phase_ref,
            "system_prompt_ref": assembly.system_ref,
            "llm": info, "prompt_tokens_estimate": assembly.tokens,
            "trimmed": tuple(assembly.trimmed), "trimmed_facts": tuple(assembly.trimmed_facts)}
    phase_ref = assembly.phase_ref
    bound = log.bind(phase=phase.value, prompt_id=phase_ref.id,
                     prompt_version=phase_ref.version, prompt_sha256=phase_ref.sha256[:12])
    if assembly.trimmed or assembly.trimmed_facts:
        bound.warning("llm_prompt_trimmed", passages=len(assembly.trimmed),
                      other=len(assembly.trimmed_facts), tokens=assembly.tokens)
    if not assembly.fits:
        reason = (f"the prompt needs {assembly.tokens} tokens even without optional inputs; "
                  f"the budget is {budget.prompt_limit}")
        bound.warning("llm_phase_degraded", reason=reason)
        return EnrichmentResult(**base, degradation=reason)
    schema = RawPhaseAnswer.model_json_schema()
    key = cache_key(provider=info.provider, model=info.model, prompt_id=phase_ref.id,
                    prompt_version=phase_ref.version, prompt_sha256=phase_ref.sha256,
                    schema=schema, num_ctx=budget.num_ctx, system=system_text,
                    prompt=assembly.prompt)
    base["cache_key"] = key
    cache_error: str | None = None
    answer: RawPhaseAnswer | None = None
    usage = Usage()
    if cache is not None:
        try:
            hit = cache.get(key)
        except KtmbError as exc:
            cache_error, hit = str(exc), None
            bound.warning("llm_cache_unavailable", error=cache_error)
        if hit is not None:
            try:
                answer = RawPhaseAnswer.model_validate(hit.answer)
                usage = Usage(cached_calls=1)
            except ValidationError:
                bound.warning("llm_cache_entry_invalid", key=key[:12])
    if answer is None:
        started = time.monotonic()
        try:
            reply = llm.structured(RawPhaseAnswer, system=system_text, prompt=assembly.prompt,
                                   num_ctx=budget.num_ctx)
            answer = RawPhaseAnswer.model_validate(reply.value)
        except RunError as exc:
            bound.warning("llm_phase_degraded", reason=str(exc))
            return EnrichmentResult(**base, usage=Usage(calls=1), cache_error=cache_error,
                                    degradation=str(exc))
        except Exception as exc:  # a model backend must never fail the run
            reason = f"the model call failed unexpectedly ({exc.__class__.__name__})"
            bound.error("llm_phase_degraded", reason=reason)
            return EnrichmentResult(**base, usage=Usage(calls=1), cache_error=cache_error,
                                    degradation=reason)
        usage = Usage(calls=1, prompt_tokens=reply.prompt_tokens,
                      completion_tokens=reply.completion_tokens)
        bound.info("llm_phase_answered", seconds=round(time.monotonic() - started, 3),
                   prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens)
        if cache is not None:
            try:
                cache.put(CachedAnswer(
                    key=key, provider=info.provider, model=info.model,
                    model_digest=llm.info.digest, prompt_id=phase_ref.id,
                    prompt_version=phase_ref.version, prompt_sha256=phase_ref.sha256,
                    answer=answer.model_dump(mode="json"), prompt_tokens=reply.prompt_tokens,
                    completion_tokens=reply.completion_tokens))
            except KtmbError as exc:
                cache_error = str(exc)
                bound.warning("llm_cache_unavailable", error=cache_error)
    grounded = _ground(answer, phase=phase, assembly=assembly, llm=info)
    dropped = sum(grounded.drops.values())
    bound.info("llm_phase_enriched", findings=len(grounded.findings),
               recommendations=len(grounded.recommendations), proposed=grounded.proposed,
               dropped=dropped, cached=usage.cached_calls > 0)
    return EnrichmentResult(
        **base, findings=tuple(grounded.findings), recommendations=grounded.recommendations,
        proposed=grounded.proposed, dropped=dropped, drops=dict(sorted(grounded.drops.items())),
        usage=usage, cache_error=cache_error)
