"""ktmb's orchestration and interfaces (graph, runs, queue, CLI, API, exports) over its domain.

The domain model is :mod:`workflow.domain`; the analysis is the ``agents`` package and the
knowledge base the ``kb`` package.
"""

from __future__ import annotations

from workflow.domain import __version__

__all__ = ["__version__"]
