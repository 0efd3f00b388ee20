"""Keeping a SARIF run within GitHub's 25,000 results: aggregation, said so.

A run has one result per finding and resource. GitHub code scanning rejects a run with more
than :data:`MAX_RESULTS` results, so past that the results are grouped, each group one result:
per rule and resource first, then, if that is still too many, per rule and file, then per
rule (a few hundred at most). A group's result is its most severe member's, with a message
and properties that name how many findings and resources it stands for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["AGGREGATE_FINGERPRINT_KEY", "MAX_RESULTS", "Aggregation", "Member", "aggregate"]

#: GitHub code scanning rejects a run with more results than this.
MAX_RESULTS = 25_000
#: The partialFingerprints key of an aggregated result (a digest of its group's key).
AGGREGATE_FINGERPRINT_KEY = "ktmbAggregate/v1"
#: Finding ids and resources listed in an aggregated result's properties.
_LISTED = 100


@dataclass(frozen=True)
class Member:
    """One finding-and-resource pair: its rule, resource, file, and how to build its result."""

    rule: str
    resource: str
    file: str
    finding_id: str
    suppressed: bool
    build: Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class Aggregation:
    """The results of a run and, when they were aggregated, how and from how many."""

    results: list[dict[str, Any]]
    per: str | None = None
    pairs: int = 0

    def notification(self) -> dict[str, Any] | None:
        """A tool notification that says the results were aggregated, or None."""
        if self.per is None:
            return None
        return {"level": "warning", "message": {"text": (
            f"GitHub code scanning accepts at most {MAX_RESULTS:,} results per run and this "
            f"model has {self.pairs:,} (one per finding and resource): results are aggregated "
            f"per {self.per}, {len(self.results):,} in all. The threat model (ktmb scan "
            "--format json) lists every finding.")}}


_LEVELS: tuple[tuple[str, Callable[[Member], tuple[str, ...]]], ...] = (
    ("rule and resource", lambda m: (m.rule, m.resource)),
    ("rule and file", lambda m: (m.rule, m.file)),
    ("rule", lambda m: (m.rule,)),
)


def aggregate(members: Sequence[Member], limit: int = MAX_RESULTS) -> Aggregation:
    """The results of ``members`` (most severe first), aggregated when more than ``limit``.

    ``limit`` is :data:`MAX_RESULTS` less the run's other results (its attack paths).
    """
    if len(members) <= limit:
        return Aggregation([m.build() for m in members])
    for per, key in _LEVELS:
        groups: dict[tuple[str, ...], list[Member]] = {}
        for member in members:
            groups.setdefault(key(member), []).append(member)
        if len(groups) <= limit or per == "rule":
            break
    results = [_grouped(group_key, group, per) for group_key, group in groups.items()]
    return Aggregation(results, per=per, pairs=len(members))


def _grouped(key: tuple[str, ...], group: list[Member], per: str) -> dict[str, Any]:
    """One result for a group: its first (most severe) member's, standing for them all."""
    result = group[0].build()
    findings = list(dict.fromkeys(m.finding_id for m in group))
    resources = list(dict.fromkeys(m.resource for m in group))
    subject = {"rule and resource": f"on {key[-1]}", "rule and file": f"in {group[0].file}",
               "rule": "in this run"}[per]
    result["message"] = {"text": (
        f"{len(findings)} finding(s) of {key[0]} on {len(resources)} resource(s) {subject}, "
        f"aggregated per {per} (the run had more than {MAX_RESULTS:,} results). Most severe: "
        + result["message"]["text"])}
    digest = hashlib.sha256("\0".join((per, *key)).encode()).hexdigest()
    result["partialFingerprints"] = {AGGREGATE_FINGERPRINT_KEY: digest}
    properties = result["properties"]
    properties.update({
        "aggregatedPer": per,
        "findingCount": len(findings),
        "resourceCount": len(resources),
        "findingIds": findings[:_LISTED],
        "resources": resources[:_LISTED],
    })
    if not all(m.suppressed for m in group):
        result.pop("suppressions", None)  # one open member keeps the group open
    return result
