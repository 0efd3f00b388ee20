"""The attack graph: multi-hop attack paths from every foothold, offline, from manifests.

:func:`analyse` builds the graph of a run's facts (:mod:`agents.attack_graph.build`), finds the
paths (:mod:`agents.attack_graph.paths`), ranks the fixes that cut them
(:mod:`agents.attack_graph.choke`); :func:`analyse_graph` does the same over a graph a threat
model carries, as if some findings were fixed.
"""

from __future__ import annotations

from agents.attack_graph.analysis import AttackAnalysis, analyse, analyse_graph
from agents.attack_graph.graph import AttackGraph

__all__ = ["AttackAnalysis", "AttackGraph", "analyse", "analyse_graph"]
