"""The knowledge base: a cited security corpus and user documents in PostgreSQL + pgvector.

``kb.store`` holds the SQL (``kb/queries.sql``) and row-level security, ``kb.documents`` parses
and chunks files, ``kb.ingest`` embeds and stores them, ``kb.embeddings`` turns text into MiniLM
vectors, ``kb.retrieval`` answers the phase agents (hybrid search with reciprocal rank fusion)
and ``workflow.kb_cli`` is ``ktmb kb``.
"""

from __future__ import annotations

__all__: list[str] = []
