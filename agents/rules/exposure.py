"""Shared shape of the rules that flag a kind of workload reachable from outside the cluster."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from agents.facts.derived import Facts
from agents.rules.base import RuleMeta, located
from workflow.domain.resources import Workload
from workflow.domain.threat_model import Finding

__all__ = ["exposed_workload_findings"]


def exposed_workload_findings(rule: RuleMeta, facts: Facts,
                              classify: Callable[[Workload], str | None],
                              title: Callable[[str, Workload], str]) -> Iterator[Finding]:
    """One finding per workload that ``classify`` names and that is exposed outside the cluster.

    Likelihood is 3 when one way in is from the internet, else 2; evidence is up to four ways in.
    """
    inv = facts.inventory
    exposed = facts.exposures
    for wl in inv.workloads:
        what = classify(wl)
        ways = exposed.get(wl.id, ())
        if not what or not ways:
            continue
        internet = any(e.internet for e in ways)
        yield rule.finding(
            (wl.id, *dict.fromkeys(e.entry for e in ways if e.entry != wl.id)),
            [located(inv, e.entry, e.path, e.detail) for e in ways[:4]],
            likelihood=3 if internet else 2,
            title=f"{title(what, wl)} is reachable via "
                  + ", ".join(sorted({e.kind for e in ways})))
