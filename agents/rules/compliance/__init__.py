"""Rules of the compliance phase (explicit list, no import side effects)."""

from __future__ import annotations

RULES: tuple[object, ...] = ()
