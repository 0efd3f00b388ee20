"""How ktmb's top ten compares with an architect's, application by application.

For every ranking in bench/data/ranking/ (the ten risks a security architect puts on top of a
corpus application, written before looking at ktmb's output), the application is scanned the
way ``ktmb scan`` does and the first ten findings of the model (its ranking) are compared with
the architect's ten:

- **overlap**: how many of the architect's risks one of ktmb's first ten findings states (a
  finding states a risk when it matches one of the risk's ``match`` entries: rule id and,
  optionally, one of its resources, as shell-style patterns);
- **rank correlation**: Kendall's tau-b between the architect's rank of each shared risk and
  the rank of the first of ktmb's findings that states it;
- **first in top three**: whether the architect's first risk is among ktmb's first three;
- the **disagreements**: the architect's risks ktmb ranks lower or misses (with where it ranks
  them), ktmb's top findings the architect did not put on top, and shared risks whose ranks
  differ by three or more;
- the severity distribution of the whole model.

Targets (issue 18): an overlap of at least 8 of 10 on every application, and the architect's
first risk in ktmb's top three.

Usage: python bench/ranking.py [--corpus DIR] [--app NAME]... [--json FILE] [--strict]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from workflow.domain.inputs import load_inputs
from workflow.domain.run import RunOptions
from workflow.domain.settings import Settings
from workflow.domain.threat_model import Finding, ThreatModel
from workflow.log import configure_logging
from workflow.scan import scan

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
RANKINGS = ROOT / "bench" / "data" / "ranking"
TOP = 10
TARGET_OVERLAP = 8
__all__ = ["Comparison", "Ranking", "Risk", "compare", "kendall_tau", "load_ranking"]


@dataclass(frozen=True)
class Risk:
    """One of the architect's risks and the findings that state it."""

    rank: int
    risk: str
    why: str
    match: tuple[tuple[str, str | None], ...]

    def stated_by(self, finding: Finding) -> bool:
        """True when ``finding`` states this risk (rule and, if given, a resource match)."""
        return any(fnmatchcase(finding.rule, rule) and (
            pattern is None or any(fnmatchcase(r, pattern) for r in finding.resources))
            for rule, pattern in self.match)


@dataclass(frozen=True)
class Ranking:
    """An architect's ranking of one corpus application."""

    app: str
    inputs: tuple[str, ...]
    namespace: str | None
    risks: tuple[Risk, ...]


def load_ranking(path: Path) -> Ranking:
    """Read one ranking file; a malformed one is a ValueError naming the file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        risks = tuple(
            Risk(rank=index, risk=str(item["risk"]), why=str(item["why"]),
                 match=tuple((str(m["rule"]), m.get("resource")) for m in item["match"]))
            for index, item in enumerate(data["top"], start=1))
        ranking = Ranking(app=str(data["app"]), inputs=tuple(data.get("inputs") or ["."]),
                          namespace=data.get("namespace"), risks=risks)
    except (KeyError, TypeError) as err:
        raise ValueError(f"{path}: not a ranking file ({err})") from None
    if len(ranking.risks) != TOP:
        raise ValueError(f"{path}: {len(ranking.risks)} risks, expected {TOP}")
    return ranking


def kendall_tau(pairs: Sequence[tuple[int, int]]) -> float | None:
    """Kendall's tau-b of (architect rank, ktmb rank) pairs; None below two pairs."""
    if len(pairs) < 2:
        return None
    concordant = discordant = ties_a = ties_b = 0
    for i, (a1, b1) in enumerate(pairs):
        for a2, b2 in pairs[i + 1:]:
            da, db = a1 - a2, b1 - b2
            if da == 0 and db == 0:
                continue
            if da == 0:
                ties_a += 1
            elif db == 0:
                ties_b += 1
            elif (da > 0) == (db > 0):
                concordant += 1
            else:
                discordant += 1
    denominator = ((concordant + discordant + ties_a) * (concordant + discordant + ties_b)) ** 0.5
    return (concordant - discordant) / denominator if denominator else None


@dataclass
class Comparison:
    """ktmb's ranking of one application against the architect's."""

    app: str
    overlap: int
    tau: float | None
    first_in_top_three: bool
    severities: dict[str, int]
    missed: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    displaced: list[dict[str, Any]] = field(default_factory=list)
    top: list[dict[str, Any]] = field(default_factory=list)

    @property
    def meets_target(self) -> bool:
        """At least eight of ten shared and the architect's first risk in ktmb's top three."""
        return self.overlap >= TARGET_OVERLAP and self.first_in_top_three


def _first(risk: Risk, findings: Sequence[Finding]) -> int | None:
    return next((i for i, f in enumerate(findings, start=1) if risk.stated_by(f)), None)


def compare(ranking: Ranking, model: ThreatModel) -> Comparison:
    """Compare the model's first ten findings with the architect's ten risks."""
    findings = list(model.findings)
    top = findings[:TOP]
    pairs: list[tuple[int, int]] = []
    result = Comparison(app=ranking.app, overlap=0, tau=None, first_in_top_three=False,
                        severities=dict(model.summary.by_severity))
    for risk in ranking.risks:
        at = _first(risk, top)
        if at is None:
            anywhere = _first(risk, findings)
            result.missed.append({"rank": risk.rank, "risk": risk.risk,
                                  "ktmb_rank": anywhere,
                                  "finding": findings[anywhere - 1].id if anywhere else None})
            continue
        result.overlap += 1
        pairs.append((risk.rank, at))
        if abs(risk.rank - at) >= 3:
            result.displaced.append({"rank": risk.rank, "ktmb_rank": at, "risk": risk.risk,
                                     "finding": top[at - 1].id})
    result.tau = kendall_tau(pairs)
    first = ranking.risks[0]
    result.first_in_top_three = any(first.stated_by(f) for f in top[:3])
    for index, item in enumerate(top, start=1):
        states = [r.rank for r in ranking.risks if r.stated_by(item)]
        result.top.append({"ktmb_rank": index, "id": item.id, "severity": item.severity.value,
                           "score": item.score, "architect_ranks": states})
        if not states:
            result.unexpected.append({"ktmb_rank": index, "id": item.id,
                                      "severity": item.severity.value, "title": item.title})
    return result


def scan_app(ranking: Ranking, corpus: Path, home: Path) -> ThreatModel:
    """The threat model ``ktmb scan`` builds for a corpus application."""
    base = corpus / "apps" / ranking.app
    inputs = load_inputs([base / p for p in ranking.inputs],
                         settings=Settings(home=home, redaction_key="ranking"))
    return scan(inputs, application=ranking.app, options=RunOptions())


def _print(result: Comparison) -> None:
    tau = "n/a" if result.tau is None else f"{result.tau:+.2f}"
    verdict = "meets target" if result.meets_target else "BELOW TARGET"
    print(f"== {result.app}: overlap {result.overlap}/{TOP}, Kendall tau {tau}, architect's "
          f"first in ktmb's top three: {'yes' if result.first_in_top_three else 'no'} "
          f"({verdict})")
    print("   severities: " + ", ".join(f"{k} {v}" for k, v in result.severities.items()))
    for row in result.top:
        marks = ",".join(map(str, row["architect_ranks"])) or "-"
        print(f"   {row['ktmb_rank']:>2}. [{marks:>5}] {row['severity']:<8} {row['score']:>4} "
              f"{row['id']}")
    for item in result.missed:
        where = (f"ktmb ranks it {item['ktmb_rank']} ({item['finding']})" if item["ktmb_rank"]
                 else "no ktmb finding states it")
        print(f"   missed   #{item['rank']}: {item['risk'][:90]} -> {where}")
    for item in result.displaced:
        print(f"   displaced #{item['rank']} -> ktmb {item['ktmb_rank']}: {item['finding']}")
    for item in result.unexpected:
        print(f"   extra    ktmb {item['ktmb_rank']}: {item['id']} ({item['severity']})")


def run(corpus: Path, apps: Sequence[str], out: Path | None) -> list[Comparison]:
    """Compare every (or the named) application; print the report, optionally write JSON."""
    results = []
    with tempfile.TemporaryDirectory() as home:
        for path in sorted(RANKINGS.glob("*.yaml")):
            ranking = load_ranking(path)
            if apps and ranking.app not in apps:
                continue
            result = compare(ranking, scan_app(ranking, corpus, Path(home)))
            _print(result)
            results.append(result)
    met = sum(r.meets_target for r in results)
    print(f"== {met}/{len(results)} applications meet the target (overlap >= {TARGET_OVERLAP} "
          "and the architect's first risk in ktmb's top three)")
    if out is not None:
        out.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n",
                       encoding="utf-8")
    return results


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--app", action="append", default=[], help="only this application")
    parser.add_argument("--json", type=Path, help="also write the comparison as JSON")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when an application misses the target")
    args = parser.parse_args()
    configure_logging(json_logs=False, level="WARNING", stream=sys.stderr)
    if not (args.corpus / "apps").is_dir():
        print(f"corpus not found at {args.corpus}")
        sys.exit(2)
    results = run(args.corpus, args.app, args.json)
    sys.exit(1 if args.strict and not all(r.meets_target for r in results) else 0)


if __name__ == "__main__":
    main()
