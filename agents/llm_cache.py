"""The cache of model answers (table ``llm_cache``, migration ``0003_llm_cache.sql``).

The key is the sha256 of everything that decides an answer: provider, model, prompt id, version
and hash, the answer schema, the context size and the rendered prompts (:func:`cache_key`). An
unchanged phase therefore never calls the model twice, and a changed manifest changes only the
keys of the phases whose rendered inputs changed. The cache in PostgreSQL is
:class:`workflow.llm_cache_store.PgLlmCache`; :class:`MemoryLlmCache` keeps answers in memory.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CachedAnswer",
    "LlmCache",
    "MemoryLlmCache",
    "cache_key",
]

log = structlog.get_logger(__name__)

class CachedAnswer(BaseModel):
    """One cached model answer."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(pattern=r"^[0-9a-f]{64}$")
    provider: str
    model: str
    model_digest: str | None = None
    prompt_id: str
    prompt_version: int
    prompt_sha256: str
    answer: dict[str, Any]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    created_at: datetime | None = None


def cache_key(*, provider: str, model: str, prompt_id: str, prompt_version: int,
              prompt_sha256: str, schema: dict[str, Any], num_ctx: int, system: str,
              prompt: str) -> str:
    """The sha256 that identifies an answer."""
    material = json.dumps({
        "provider": provider, "model": model, "prompt_id": prompt_id,
        "prompt_version": prompt_version, "prompt_sha256": prompt_sha256, "schema": schema,
        "num_ctx": num_ctx, "system": system, "prompt": prompt,
    }, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class LlmCache(Protocol):
    """Where enrichment keeps model answers."""

    def get(self, key: str) -> CachedAnswer | None:
        """The answer stored under ``key``, or None."""
        ...

    def put(self, entry: CachedAnswer) -> None:
        """Store an answer (an existing key is left as it is)."""
        ...


class MemoryLlmCache:
    """The cache in process memory (the bench, tests, and runs without a database)."""

    def __init__(self) -> None:
        self._entries: dict[str, CachedAnswer] = {}
        self._lock = threading.Lock()
        self.hits = 0

    def get(self, key: str) -> CachedAnswer | None:
        """The answer stored under ``key``, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self.hits += 1
            return entry

    def put(self, entry: CachedAnswer) -> None:
        """Store an answer; an existing key is kept."""
        with self._lock:
            self._entries.setdefault(entry.key, entry.model_copy(
                update={"created_at": entry.created_at or datetime.now(UTC)}))

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))
