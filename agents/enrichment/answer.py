"""What the model may answer: the JSON schema of a phase answer, and what a phase cost."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflow.domain.threat_model import Stride

__all__ = [
    "DROP_REASONS",
    "MAX_PATHS",
    "MAX_RECOMMENDATIONS",
    "MAX_TEXT",
    "MAX_THREATS",
    "MAX_TITLE",
    "FindingRecommendation",
    "PathProposal",
    "PhaseAnswer",
    "RawPhaseAnswer",
    "ThreatProposal",
    "Usage",
]

MAX_TITLE = 160
MAX_TEXT = 2000
MAX_THREATS = 5
MAX_RECOMMENDATIONS = 20
MAX_PATHS = 5

#: Why a model item can be dropped.
DROP_REASONS = ("invalid", "empty", "duplicate", "unknown_resource", "no_known_resource",
                "unknown_citation", "unknown_finding")


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


class PathProposal(BaseModel):
    """An attack path the model proposes: a chain of the attack graph's vertices and steps.

    The reviewer keeps it only when every step is a step of the graph (the same vertices, the
    same attack type) and it ends on a target; otherwise it is dropped and counted.
    """

    model_config = ConfigDict(extra="ignore")

    vertices: list[str] = Field(min_length=2, max_length=12, description=(
        "Vertex ids from <attack_graph>, the origin first and the target last."))
    attacks: list[str] = Field(min_length=1, max_length=11, description=(
        "The attack type of each step, one fewer than the vertices."))
    rationale: str = Field(description="Why this chain matters beyond the paths shown.")


class PhaseAnswer(BaseModel):
    """What the model may answer (the JSON schema sent for constrained decoding).

    Threats and recommendations are required, so a constrained decoder cannot stop at ``{}``;
    paths are proposed only by the risk review's prompt.
    """

    threats: list[ThreatProposal] = Field(max_length=MAX_THREATS)
    recommendations: list[FindingRecommendation] = Field(max_length=MAX_RECOMMENDATIONS)
    paths: list[PathProposal] = Field(default_factory=list, max_length=MAX_PATHS)


class RawPhaseAnswer(BaseModel):
    """The answer's envelope, validated leniently so that items are judged one by one.

    Its JSON schema is :class:`PhaseAnswer`'s, so the model is constrained to the strict form,
    while an invalid item (say likelihood 9) costs only that item, not the whole answer.
    """

    threats: list[dict[str, Any]] = Field(default_factory=list)
    recommendations: list[dict[str, Any]] = Field(default_factory=list)
    paths: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The strict schema of :class:`PhaseAnswer`."""
        return PhaseAnswer.model_json_schema(*args, **kwargs)


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
