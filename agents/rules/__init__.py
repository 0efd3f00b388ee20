"""The rule catalogue's rules: one package per phase, one module per rule.

``agents/rules/<phase>/<slug>.py`` holds ``RULE`` (its metadata) and ``evaluate(facts)``;
``agents/rules/<phase>/__init__.py`` lists the phase's rules. :mod:`agents.rules.base` is the
shape of a rule; :mod:`agents.catalogue` is the whole catalogue and its generated docs.
"""

from __future__ import annotations
