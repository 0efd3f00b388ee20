"""The model client a run asks for (``--llm``, ``--model``)."""

from __future__ import annotations

import httpx

from agents.llm.client import ModelClient, RetryPolicy
from agents.llm.hosts import check_model_host
from agents.llm.llamacpp import (
    LLAMACPP_INSTALL,
    TINY_MODEL_NOTE,
    LlamaCppModelClient,
    bundled_digest,
    bundled_gguf_path,
    gguf_file,
    llama_cpp_available,
)
from agents.llm.ollama import DEFAULT_OLLAMA_MODEL, DEFAULT_SEED, OllamaModelClient
from workflow.domain.errors import ConfigError
from workflow.domain.run import LlmProvider

__all__ = [
    "make_model_client",
]

def make_model_client(provider: str, model: str | None = None, *, allow_remote: bool = False,
                      host: str | None = None, seed: int = DEFAULT_SEED,
                      timeout: float = 300.0, retry: RetryPolicy | None = None,
                      transport: httpx.BaseTransport | None = None) -> ModelClient | None:
    """Build the model client a run asks for (``--llm``, ``--model``).

    Args:
        provider: ``ollama``, ``llamacpp`` or ``off``.
        model: the Ollama model name or the GGUF path; the provider's default when None.
        allow_remote: accept a model host that is not loopback or private.
        host: the Ollama host; ``$OLLAMA_HOST`` or ``http://127.0.0.1:11434`` when None.
        seed: the sampling seed.
        timeout: seconds an Ollama call may take.
        retry: the retry policy.
        transport: an httpx transport for the Ollama client (tests).

    Returns:
        The client, or None for ``off``. Nothing is contacted or loaded here.

    Raises:
        ConfigError: an unknown provider, a remote host without ``allow_remote``, a missing
            GGUF file, or llama-cpp-python not installed (the message names the pip command).
    """
    name = provider.strip().lower()
    if name == "off":
        return None
    if name == "ollama":
        url = check_model_host(host, allow_remote=allow_remote)
        return OllamaModelClient(model or DEFAULT_OLLAMA_MODEL, url, seed=seed, timeout=timeout,
                                 retry=retry, transport=transport)
    if name == "llamacpp":
        if not llama_cpp_available():
            raise ConfigError(f"--llm llamacpp needs llama-cpp-python; run: {LLAMACPP_INSTALL}")
        if model:
            return LlamaCppModelClient(gguf_file(model), seed=seed, retry=retry)
        path = bundled_gguf_path()
        return LlamaCppModelClient(path, seed=seed, retry=retry, note=TINY_MODEL_NOTE,
                                   digest=bundled_digest())
    raise ConfigError(f"unknown model provider {provider!r}; "
                      f"choose one of {', '.join(LlmProvider)}")
