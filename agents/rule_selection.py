"""Which rules a run runs: ``--rules`` and ``--skip-rules``, by rule id or glob.

A run's options (:class:`~workflow.domain.run.RunOptions`) carry the patterns; the run context
carries the :class:`RuleSelection` made of them, and :func:`agents.phase_runner.run_phase`
runs only the selected rules of each phase (so ``ktmb run`` and ``ktmb scan`` select alike).
A pattern is a rule id (``controls.privileged-container``) or a shell-style glob over ids
(``controls.*``, ``*-question``), matched case-sensitively; an option may hold several,
separated by commas. A pattern that matches no rule is an error, never silently nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from agents.catalogue import ALL_RULES
from agents.rules.base import Rule
from workflow.domain.errors import ConfigError

__all__ = ["RuleSelection", "split_patterns"]


def split_patterns(values: Iterable[str] | None) -> tuple[str, ...]:
    """The patterns of a repeatable option whose values may hold several, comma-separated."""
    return tuple(part.strip() for value in values or () for part in value.split(",")
                 if part.strip())


def _check(option: str, patterns: Sequence[str], ids: Sequence[str]) -> None:
    for pattern in patterns:
        if any(fnmatchcase(rid, pattern) for rid in ids):
            continue
        close = difflib.get_close_matches(pattern, ids, n=1)
        hint = f"; did you mean {close[0]}?" if close else "; the rule ids are in docs/RULES.md"
        raise ConfigError(f"{option}: no rule matches {pattern!r}{hint}")


@dataclass(frozen=True)
class RuleSelection:
    """The rules a run runs: those ``include`` matches (all when empty), less ``exclude``'s."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def of(cls, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> RuleSelection:
        """A checked selection.

        Raises:
            ConfigError: a pattern matches no rule, or the two leave no rule to run.
        """
        selection = cls(split_patterns(include), split_patterns(exclude))
        ids = [rule.RULE.id for rule in ALL_RULES]
        _check("--rules", selection.include, ids)
        _check("--skip-rules", selection.exclude, ids)
        if not any(selection.selects(rid) for rid in ids):
            raise ConfigError("--rules and --skip-rules leave no rule to run")
        return selection

    @property
    def everything(self) -> bool:
        """True when every rule runs (no pattern given)."""
        return not self.include and not self.exclude

    def selects(self, rule_id: str) -> bool:
        """Whether the rule ``rule_id`` runs."""
        if self.include and not any(fnmatchcase(rule_id, p) for p in self.include):
            return False
        return not any(fnmatchcase(rule_id, p) for p in self.exclude)

    def describe(self) -> str:
        """What the selection leaves out, in one line (recorded in the model)."""
        skipped = sum(not self.selects(rule.RULE.id) for rule in ALL_RULES)
        given = " ".join(f"{option} {','.join(patterns)}" for option, patterns in
                         (("--rules", self.include), ("--skip-rules", self.exclude)) if patterns)
        return (f"{skipped} of {len(ALL_RULES)} rules not run ({given}): their findings are "
                "absent from this model")

    def of_phase(self, rules: Sequence[Rule]) -> tuple[Rule, ...]:
        """The selected rules among a phase's ``rules``, in their order."""
        if self.everything:
            return tuple(rules)
        return tuple(rule for rule in rules if self.selects(rule.RULE.id))
