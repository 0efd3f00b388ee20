"""Workflow layer of ktmb: inputs, inventory, graph, runs, persistence and interfaces."""

from __future__ import annotations

__version__ = "0.1.0"
