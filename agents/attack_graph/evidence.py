"""The findings that evidence the graph's steps, by their fingerprints.

A step that a finding states (a privileged container, a grant, a token mounted with rights)
requires that finding: the graph is built over the findings the gates kept open, so a finding
removed at a gate or marked false positive, mitigated or accepted removes the steps it
evidenced, and a what-if that fixes it removes them too. The fingerprints are the rules'
(``<rule>@<resource>[#detail]``); the rule ids are spelled here because the graph sits below
the rule catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from workflow.domain.threat_model import Finding

__all__ = ["Evidence", "fingerprint"]


def fingerprint(rule: str, resource: str, detail: str | None = None) -> str:
    """A finding id as the rules build it."""
    return f"{rule}@{resource}" + (f"#{detail}" if detail else "")


class Evidence:
    """The open findings a graph may build on, by id and by resource."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.ids = frozenset(f.id for f in findings)
        self._by_prefix: dict[str, list[str]] = {}
        for finding in findings:
            head = finding.id.split("#", 1)[0]
            self._by_prefix.setdefault(head, []).append(finding.id)

    def has(self, finding_id: str | None) -> bool:
        """True when the finding is open."""
        return finding_id is not None and finding_id in self.ids

    def present(self, *finding_ids: str | None) -> tuple[str, ...]:
        """The ids of those findings that are open, in order."""
        return tuple(f for f in finding_ids if f is not None and f in self.ids)

    def of(self, rule: str, resource: str) -> list[str]:
        """Every open finding of a rule on a resource, whatever its detail."""
        return list(self._by_prefix.get(fingerprint(rule, resource), ()))

    def all_of(self, ids: Iterable[str]) -> bool:
        """True when every one of ``ids`` is open."""
        return all(i in self.ids for i in ids)
