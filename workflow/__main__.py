"""``python -m workflow`` runs the ktmb command line."""

from __future__ import annotations

from workflow.cli import main

main()
