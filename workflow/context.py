"""The run context: what every node needs but a checkpoint must not hold (clients, pools).

LangGraph does not checkpoint the context, so every invoke and resume passes it again
(``workflow.runs`` does). Retrieval and the model sit behind the two protocols below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from workflow.domain.threat_model import Citation, LlmInfo, Phase

__all__ = [
    "Enrichment",
    "LlmAnswer",
    "ModelClient",
    "Passage",
    "PhaseEnricher",
    "ProgressHook",
    "Retriever",
    "RunContext",
]

T = TypeVar("T", bound=BaseModel)


class Passage(BaseModel):
    """A knowledge-base passage returned by retrieval."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    document: str
    section: str = ""
    version: int = 1
    collection: str = "builtin"
    text: str
    score: float = 0.0

    def citation(self) -> Citation:
        """This passage as a citation on a finding."""
        return Citation(document=self.document, section=self.section, chunk_id=self.chunk_id,
                        version=self.version, collection=self.collection)


class Retriever(Protocol):
    """Hybrid search over the knowledge base, as seen by the phase agents."""

    def search(self, query: str, *, k: int = 5, phase: Phase | None = None,
               framework: str | None = None) -> list[Passage]:
        """The top ``k`` passages for ``query``."""
        ...

    def passages_for_rule(self, rule_id: str) -> list[Passage]:
        """The built-in passages that explain a rule (its citations)."""
        ...


class LlmAnswer(BaseModel):
    """A parsed model answer with its accounting."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    value: Any
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False


class ModelClient(Protocol):
    """A local model that answers in a JSON schema (implemented in ``agents.llm``)."""

    @property
    def info(self) -> LlmInfo:
        """Provider, model name and digest."""
        ...

    def structured(self, schema: type[T], *, system: str, prompt: str,
                   num_ctx: int) -> LlmAnswer:
        """Ask for an answer constrained to ``schema``.

        Raises:
            ModelUnavailableError: the model cannot be reached or loaded.
            ModelOutputError: the answer stayed invalid after retries.
        """
        ...


@dataclass
class Enrichment:
    """What the model step returns to the phase runner."""

    findings: list[Any]
    dropped: int = 0
    usage: dict[str, Any] = field(default_factory=dict)
    prompts: dict[str, Any] = field(default_factory=dict)
    degradations: dict[str, Any] = field(default_factory=dict)


#: (phase, inventory, rule findings, inputs, passages, reviewer guidance, context) -> Enrichment
PhaseEnricher = Callable[
    [Phase, Any, list[Any], Any, list[Passage], "str | None", "RunContext"], Enrichment]
#: (phase, event, details) -> None; shows progress on a terminal.
ProgressHook = Callable[[Phase, str, dict[str, Any]], None]


@dataclass
class RunContext:
    """Per-process services for a run (not checkpointed)."""

    retriever: Retriever | None = None
    llm: ModelClient | None = None
    enrich: PhaseEnricher | None = None
    progress: ProgressHook | None = None
    top_k: int = 5
    extras: dict[str, Any] = field(default_factory=dict)
    degradations: list[dict[str, Any]] = field(default_factory=list)

    def note_degradation(self, phase: Phase | None, component: str, reason: str) -> None:
        """Record something that ran with less than intended (also kept in state)."""
        self.degradations.append({"phase": phase, "component": component, "reason": reason})


def unique(items: Sequence[str]) -> list[str]:
    """Keep the first occurrence of each item, in order."""
    return list(dict.fromkeys(items))
