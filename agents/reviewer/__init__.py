"""The reviewer: merge, score and rank the findings into the run's threat model.

:mod:`agents.reviewer.review` merges, scores and ranks; :mod:`agents.reviewer.assemble` builds
the threat model of a run; :mod:`agents.reviewer.node` is the reviewer's node in the graph.
"""

from __future__ import annotations
