"""The domain model: inventory, inputs, threat model, scoring, errors, settings.

The bottom layer of ktmb. Nothing here imports another package of ours (the import-linter
contracts in ``pyproject.toml`` check it): analysis (``agents``) and the knowledge base
(``kb``) build on it, orchestration and interfaces (the rest of ``workflow``) on top of those.
"""

from __future__ import annotations

__all__ = ["__version__"]

#: ktmb's version (``ktmb --version``; ``generator.version`` of every threat model).
__version__ = "0.1.0"
