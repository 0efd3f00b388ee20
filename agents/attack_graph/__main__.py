"""``python -m agents.attack_graph > docs/ATTACKS.md``."""

from __future__ import annotations

import sys

from agents.attack_graph.docs import render_attacks

sys.stdout.write(render_attacks())
