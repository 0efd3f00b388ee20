"""Model enrichment: the only path from a phase to a model (:mod:`agents.enrichment.enricher`).

Token counting uses :func:`agents.enrichment.prompt.estimate_tokens` (``ceil(characters /
3.5)``, deterministic and slightly pessimistic for English and YAML-like text) so that the
rendered prompt, and with it the cache key, never depends on loading a model.
"""

from __future__ import annotations
