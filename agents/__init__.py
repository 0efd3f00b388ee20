"""Phase agents: deterministic rules, retrieval and model enrichment, one module per phase."""

from __future__ import annotations
