"""What every model backend implements: a JSON-schema-constrained answer, and its retries."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from workflow.domain.threat_model import LlmInfo

__all__ = [
    "LlmAnswer",
    "ModelClient",
    "RetryPolicy",
    "reask_message",
    "validation_summary",
]

T = TypeVar("T", bound=BaseModel)


class LlmAnswer(BaseModel):
    """A parsed model answer with its accounting."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    value: Any
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False


class ModelClient(Protocol):
    """A local model that answers in a JSON schema."""

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


class RetryPolicy(BaseModel):
    """How often and how patiently to retry a model call.

    Attributes:
        attempts: tries for a transient failure (connection refused, timeout, HTTP 5xx/429).
        reasks: extra questions when the answer is not valid JSON for the schema.
        backoff: seconds before the first retry; doubled after each retry.
        max_backoff: the longest wait between two tries.
        cooldown: seconds during which a host that was found down is not asked again (so a
            run with eight phases fails fast instead of waiting eight times).
    """

    attempts: int = 3
    reasks: int = 2
    backoff: float = 0.5
    max_backoff: float = 8.0
    cooldown: float = 60.0

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        return float(min(self.max_backoff, self.backoff * (2 ** (retry - 1))))


def reask_message(error: str) -> dict[str, str]:
    """The follow-up question after an answer that could not be used."""
    return {"role": "user", "content": (
        "Your previous answer could not be used: " + error + ". Answer again with one JSON "
        "object that matches the schema exactly, with no other text; keep it short.")}


def validation_summary(exc: ValidationError) -> str:
    """The first problems of an invalid answer, in one line."""
    parts = []
    for item in exc.errors(include_input=False, include_url=False)[:3]:
        loc = ".".join(str(p) for p in item.get("loc", ())) or "answer"
        parts.append(f"{loc}: {item.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid JSON"
