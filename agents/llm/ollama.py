"""A model served by Ollama, spoken to through the ``ollama`` Python client."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import ollama
import structlog
from pydantic import BaseModel, ValidationError

from agents.llm.client import LlmAnswer, RetryPolicy, reask_message, validation_summary
from agents.llm.hosts import DEFAULT_OLLAMA_HOST
from workflow.domain.errors import ModelOutputError, ModelUnavailableError
from workflow.domain.threat_model import LlmInfo

__all__ = [
    "DEFAULT_OLLAMA_MODEL",
    "DEFAULT_SEED",
    "OllamaModelClient",
    "OllamaStatus",
    "probe_ollama",
]

T = TypeVar("T", bound=BaseModel)

log = structlog.get_logger(__name__)

DEFAULT_OLLAMA_MODEL = "phi4-mini"
DEFAULT_SEED = 42


class OllamaModelClient:
    """A model served by Ollama, spoken to through the ``ollama`` Python client.

    Args:
        model: the Ollama model name, e.g. ``phi4-mini`` or ``phi4-mini:3.8b-q8_0``.
        host: the base URL (already checked by :func:`check_model_host`).
        seed: the sampling seed sent with every call.
        timeout: seconds to wait for an answer (connecting has its own 5 s limit).
        num_predict: the most tokens an answer may have.
        keep_alive: how long Ollama keeps the model loaded between calls.
        retry: the retry policy.
        transport: an httpx transport (tests pass ``httpx.MockTransport``).
        sleep: how to wait between retries (tests pass a no-op).
    """

    def __init__(self, model: str = DEFAULT_OLLAMA_MODEL, host: str = DEFAULT_OLLAMA_HOST, *,
                 seed: int = DEFAULT_SEED, timeout: float = 300.0, num_predict: int = 1024,
                 keep_alive: str = "30m", retry: RetryPolicy | None = None,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.model = model
        self.host = host
        self.seed = seed
        self.timeout = timeout
        self.num_predict = num_predict
        self.keep_alive = keep_alive
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        extra: dict[str, Any] = {"transport": transport} if transport is not None else {}
        # trust_env=False: no HTTP(S)_PROXY detour, the request goes to the checked host only.
        self._client = ollama.Client(
            host=host, timeout=httpx.Timeout(timeout, connect=5.0), trust_env=False, **extra)
        self._digest: str | None = None
        self._digest_looked_up = False
        self._down_until = 0.0
        self._down_reason = ""

    @property
    def info(self) -> LlmInfo:
        """Provider, model name and (after the first answer) the model digest."""
        return LlmInfo(provider="ollama", model=self.model, digest=self._digest)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()  # type: ignore[no-untyped-call]

    def _mark_down(self, reason: str) -> ModelUnavailableError:
        self._down_until = time.monotonic() + self.retry.cooldown
        self._down_reason = reason
        return ModelUnavailableError(reason)

    def _chat(self, messages: list[dict[str, str]], fmt: dict[str, Any],
              options: dict[str, Any]) -> ollama.ChatResponse:
        """One chat request with retries for transient failures."""
        last = ""
        for attempt in range(1, self.retry.attempts + 1):
            if attempt > 1:
                self._sleep(self.retry.delay(attempt - 1))
            try:
                return self._client.chat(model=self.model, messages=messages, format=fmt,
                                         options=options, keep_alive=self.keep_alive,
                                         stream=False)
            except ConnectionError:
                last = f"model host {self.host} is not reachable"
            except httpx.TimeoutException:
                last = f"model host {self.host} did not answer within {self.timeout:g}s"
            except ollama.ResponseError as exc:
                if exc.status_code == 404:
                    raise ModelUnavailableError(
                        f"model {self.model} is not available on {self.host}; "
                        f"run: ollama pull {self.model}") from None
                if exc.status_code not in (408, 429) and exc.status_code < 500:
                    raise ModelUnavailableError(
                        f"model host {self.host} refused the request "
                        f"(HTTP {exc.status_code})") from None
                last = f"model host {self.host} failed (HTTP {exc.status_code})"
            except (httpx.HTTPError, ValueError) as exc:
                last = f"model host {self.host} failed ({exc.__class__.__name__})"
            log.warning("llm_call_retry", provider="ollama", model=self.model, attempt=attempt,
                        reason=last)
        raise self._mark_down(last)

    def structured(self, schema: type[T], *, system: str, prompt: str,
                   num_ctx: int) -> LlmAnswer:
        """Ask for an answer constrained to ``schema``.

        Raises:
            ModelUnavailableError: the host is down, too slow, or lacks the model.
            ModelOutputError: the answer stayed invalid after the re-asks.
        """
        if time.monotonic() < self._down_until:
            raise ModelUnavailableError(self._down_reason + " (not retried during cooldown)")
        fmt = schema.model_json_schema()
        options = {"num_ctx": num_ctx, "temperature": 0, "seed": self.seed,
                   "num_predict": self.num_predict}
        base = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
        messages = list(base)
        prompt_tokens = completion_tokens = 0
        error = ""
        for ask in range(self.retry.reasks + 1):
            started = time.monotonic()
            response = self._chat(messages, fmt, options)
            prompt_tokens += response.prompt_eval_count or 0
            completion_tokens += response.eval_count or 0
            content = (response.message.content or "") if response.message else ""
            log.info("llm_call", provider="ollama", model=self.model, ask=ask + 1,
                     prompt_tokens=response.prompt_eval_count,
                     completion_tokens=response.eval_count, done_reason=response.done_reason,
                     seconds=round(time.monotonic() - started, 3))
            if (response.prompt_eval_count or 0) >= num_ctx:
                log.warning("llm_prompt_may_be_truncated", num_ctx=num_ctx,
                            prompt_tokens=response.prompt_eval_count)
            try:
                value = schema.model_validate_json(content)
            except ValidationError as exc:
                error = validation_summary(exc)
                if response.done_reason == "length":
                    error = f"the answer was cut off at {self.num_predict} tokens ({error})"
                log.warning("llm_answer_invalid", provider="ollama", model=self.model,
                            ask=ask + 1, error=error)
                messages = [*base, reask_message(error)]
                continue
            self._lookup_digest()
            return LlmAnswer(value=value, prompt_tokens=prompt_tokens,
                             completion_tokens=completion_tokens)
        raise ModelOutputError(
            f"model {self.model} gave no valid answer after {self.retry.reasks + 1} asks: {error}")

    def _lookup_digest(self) -> None:
        """Record the model digest once (best effort: a failure leaves it unknown)."""
        if self._digest_looked_up:
            return
        self._digest_looked_up = True
        try:
            listing = self._client.list()
        except (ConnectionError, httpx.HTTPError, ollama.ResponseError, ValueError):
            return
        wanted = {self.model, f"{self.model}:latest"}
        for entry in listing.models:
            if entry.model in wanted:
                self._digest = entry.digest
                return


class OllamaStatus(BaseModel):
    """What an Ollama host says about itself (for ``ktmb doctor``)."""

    host: str
    reachable: bool
    models: list[str] = []
    error: str | None = None

    def has_model(self, model: str) -> bool:
        """True when ``model`` (or ``model:latest``) is pulled on the host."""
        wanted = {model, f"{model}:latest"}
        return any(name in wanted for name in self.models)


def probe_ollama(host: str, *, timeout: float = 3.0,
                 transport: httpx.BaseTransport | None = None) -> OllamaStatus:
    """Ask an (already allowed) Ollama host for its version and pulled models."""
    extra: dict[str, Any] = {"transport": transport} if transport is not None else {}
    client = ollama.Client(host=host, timeout=httpx.Timeout(timeout), trust_env=False, **extra)
    try:
        listing = client.list()
        return OllamaStatus(host=host, reachable=True,
                            models=sorted(str(m.model) for m in listing.models if m.model))
    except ConnectionError:
        return OllamaStatus(host=host, reachable=False, error="connection refused")
    except httpx.TimeoutException:
        return OllamaStatus(host=host, reachable=False, error=f"no answer within {timeout:g}s")
    except ollama.ResponseError as exc:
        return OllamaStatus(host=host, reachable=False, error=f"HTTP {exc.status_code}")
    except (httpx.HTTPError, ValueError) as exc:
        return OllamaStatus(host=host, reachable=False, error=exc.__class__.__name__)
    finally:
        client.close()  # type: ignore[no-untyped-call]
