"""The prompt of a phase, rendered within an explicit token budget."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

import prompts
from agents.attack_graph import analyse
from agents.enrichment.inventory_view import inventory_facts
from agents.enrichment.text import as_data, clip
from agents.facts.derived import Facts
from agents.phase import PhaseSpec
from workflow.domain.passages import Passage
from workflow.domain.threat_model import Finding, PromptRef

__all__ = [
    "Budget",
    "NoteLike",
    "NotesInput",
    "PreparedPrompt",
    "estimate_tokens",
    "prepare_prompt",
]

_RULE_TEXT_CHARS = 240


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


def estimate_tokens(text: str) -> int:
    """Estimated tokens of ``text``: ``ceil(len(text) / 3.5)``.

    BPE tokenizers of current small models average about 4 characters per token on English and
    fewer on identifiers and YAML; 3.5 errs on the side of more tokens.
    """
    return math.ceil(len(text) / 3.5)


def _finding_line(finding: Finding) -> str:
    resources = ",".join(finding.resources[:4]) + (
        f",+{len(finding.resources) - 4} more" if len(finding.resources) > 4 else "")
    return (f"- {finding.id}: {as_data(clip(finding.title, _RULE_TEXT_CHARS))} "
            f"[{finding.severity.value}; resources: {resources}]")


def _passage_block(passage: Passage) -> str:
    source = passage.document + (f" § {passage.section}" if passage.section else "")
    return f'<passage id="{passage.chunk_id}" source="{as_data(source)}">\n' \
           f"{as_data(passage.text.strip())}\n</passage>"


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
        extra = {"attack_graph": header["attack_graph"]} if "attack_graph" in header else {}
        text = phase_prompt.render(
            **{k: v for k, v in header.items() if k != "attack_graph"}, **extra,
            inventory=fact_text,
            findings="\n".join(_finding_line(f) for f in findings) or "none",
            passages="\n".join(_passage_block(p) for p in passages) or "none",
            notes=as_data(notes_kept) or "none",
            guidance=as_data(guidance) or "none")
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


def prepare_prompt(spec: PhaseSpec, facts: Facts, findings: Sequence[Finding],
                   passages: Sequence[Passage], notes: NotesInput, guidance: str | None, *,
                   application: str = "application", cloud: str = "unspecified",
                   classification: str = "unspecified", budget: Budget | None = None,
                   prompt_version: int | None = None,
                   count_tokens: Callable[[str], int] = estimate_tokens) -> PreparedPrompt:
    """Render the system prompt and the phase's prompt within the budget (no model call).

    Args:
        spec: the phase (its prompt and the inventory view its prompt shows).
        facts: the run's facts (the inventory is shown through the phase's view).
        findings: the phase's rule findings (only ids, titles and bands are shown).
        passages: retrieved passages, best first (the last ones are trimmed first).
        notes: architecture and review notes (text, or items with ``path`` and ``text``).
        guidance: the reviewer's guidance on a rerun, if any.
        application: the application's name, shown in the prompt.
        cloud: the target cloud (eks, gke, aks, on-prem), shown in the prompt.
        classification: the data classification, shown in the prompt.
        budget: the context budget.
        prompt_version: the phase prompt's version (the newest when None).
        count_tokens: the token counter used for the budget.

    Raises:
        PromptError: when the prompt files are missing or malformed.
    """
    system = prompts.load("system")
    phase_prompt = prompts.load(spec.prompt, prompt_version)
    rule_resources = [r for f in findings for r in f.resources]
    header = {"application": as_data(application), "cloud": as_data(cloud),
              "classification": as_data(classification)}
    if "attack_graph" in phase_prompt.inputs:
        header["attack_graph"] = as_data(analyse(facts).as_text())
    return _assemble(
        phase_prompt, system, facts=inventory_facts(facts.inventory, spec.view, rule_resources),
        findings=list(findings), passages=list(passages), notes=_notes_text(notes),
        guidance=(guidance or "").strip(), budget=budget or Budget(), count=count_tokens,
        header=header)
