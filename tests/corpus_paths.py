"""Where the shared corpus lives; tests that need it skip cleanly when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"

__all__ = ["CORPUS", "REPO", "corpus_app"]


def corpus_app(name: str) -> Path:
    """A corpus application's directory; skips the test when the corpus is absent."""
    path = CORPUS / "apps" / name
    if not path.exists():
        pytest.skip(f"shared corpus not present at {CORPUS}")
    return path
