"""The ``ktmb`` command in a real process, as a user's shell runs it (for the CLI probes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from tests.corpus_paths import REPO

__all__ = ["EXAMPLE", "MANIFESTS", "REPO", "closed_pipe", "ktmb"]

EXAMPLE = REPO / "examples" / "payments"
MANIFESTS = str(EXAMPLE / "manifests")


def ktmb(env: dict[str, str], *args: str | Path, cwd: Path = REPO, timeout: float = 300,
         stdout: int | IO[Any] | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    """``python -m workflow ARGS`` with ``env`` (embeddings off unless ``env`` says otherwise)."""
    return subprocess.run([sys.executable, "-m", "workflow", *map(str, args)],
                          env={"KTMB_EMBEDDINGS": "off", **env}, cwd=cwd, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=timeout, check=False)


def closed_pipe() -> int:
    """The write end of a pipe whose reader has gone (``ktmb ... | head -1`` after head exits).

    The caller closes the returned descriptor.
    """
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end
