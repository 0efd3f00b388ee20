"""The cache of model answers (table ``llm_cache``, migration ``0003_llm_cache.sql``).

The key is the sha256 of everything that decides an answer: provider, model, prompt id, version
and hash, the answer schema, the context size and the rendered prompts (:func:`cache_key`). An
unchanged phase therefore never calls the model twice, and a changed manifest changes only the
keys of the phases whose rendered inputs changed. All SQL of the cache is in ``llm_cache.sql``
(loaded into :data:`QUERIES`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import psycopg
import structlog
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field

from workflow.domain.errors import StoreError, one_line
from workflow.domain.named_queries import ConnectionSource, load_queries

__all__ = [
    "QUERIES",
    "CachedAnswer",
    "ConnectionSource",
    "LlmCache",
    "MemoryLlmCache",
    "PgLlmCache",
    "cache_key",
]

log = structlog.get_logger(__name__)

#: Every statement the cache runs, by name (the ``-- name:`` blocks of ``llm_cache.sql``).
QUERIES: dict[str, str] = load_queries(Path(__file__).with_name("llm_cache.sql"))


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


class PgLlmCache:
    """The cache in PostgreSQL.

    Args:
        source: ``workflow.db.Database`` or a ``psycopg_pool.ConnectionPool``; the connections
            must be in autocommit mode and return dict rows (the project's pool does both).
    """

    def __init__(self, source: ConnectionSource) -> None:
        self._source = source

    def _run(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            with self._source.connection() as conn, conn.cursor(
                    row_factory=psycopg.rows.dict_row) as cur:
                cur.execute(QUERIES[name], params)
                return list(cur.fetchall()) if cur.description else []
        except psycopg.Error as exc:
            raise StoreError(f"model cache {name} failed: "
                             f"{one_line(exc, with_type=False)}") from exc

    def get(self, key: str) -> CachedAnswer | None:
        """The answer stored under ``key``, or None (counts a hit)."""
        rows = self._run("get", {"key": key})
        return CachedAnswer.model_validate(rows[0]) if rows else None

    def put(self, entry: CachedAnswer) -> None:
        """Store an answer; a concurrent writer of the same key wins silently."""
        params = entry.model_dump(exclude={"created_at"})
        params["answer"] = Jsonb(entry.answer)
        self._run("put", params)

    def count(self) -> int:
        """How many answers are cached."""
        rows = self._run("count", {})
        return int(rows[0]["n"]) if rows else 0


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
