"""What the benchmarks share about the ktmb tree they measure."""

from __future__ import annotations

import compileall
from pathlib import Path

__all__ = ["ROOT", "compile_project"]

ROOT = Path(__file__).resolve().parents[1]


def compile_project() -> None:
    """Write the bytecode of ktmb's own packages before timing, as a regular install would.

    An editable install leaves them without bytecode and a shell with PYTHONDONTWRITEBYTECODE=1
    never writes it, so each timed process would compile them while the peer runs from the
    bytecode pip wrote at install time.
    """
    for package in ("workflow", "agents", "kb", "prompts"):
        compileall.compile_dir(ROOT / package, quiet=1)
