"""The cache of model answers in PostgreSQL (table ``llm_cache``, migration 0003).

Its SQL is in ``llm_cache.sql`` (loaded into :data:`QUERIES`); the cache's key and entries are
:mod:`agents.llm_cache`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from agents.llm_cache import CachedAnswer
from workflow.domain.errors import StoreError, one_line
from workflow.domain.named_queries import ConnectionSource, load_queries

__all__ = ["QUERIES", "PgLlmCache"]

#: Every statement the cache runs, by name (the ``-- name:`` blocks of ``llm_cache.sql``).
QUERIES: dict[str, str] = load_queries(Path(__file__).with_name("llm_cache.sql"))


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
