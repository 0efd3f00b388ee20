"""How often ktmb agrees with peer scanners' own labelled fixtures, and what it leaves out.

For every labelled set in ../shared/corpus/peer-fixtures (Checkov, Polaris, kube-score,
kubesec), each fixture whose peer check is mapped to ktmb rules in bench/data/peer_check_map.yaml
is loaded through ktmb's real input pipeline; ktmb "fails" the fixture when one of the mapped
rules reports a finding (after the mapping's filters). Agreement is the share of fixtures where
that verdict equals the upstream expectation; fixtures the map lists under ``disagree_on`` (with
the reason ktmb deliberately judges them otherwise) are reported apart and not counted. Peer
checks that are not mapped are listed with the reason from the map; a check that is neither
mapped nor explained makes the run fail.

Usage: python bench/peer_fixtures.py [--corpus DIR] [--details]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agents.catalogue import ALL_RULES
from agents.facts.derived import Facts
from workflow.domain.errors import KtmbError
from workflow.domain.inputs import load_inputs
from workflow.domain.settings import Settings
from workflow.domain.threat_model import Finding

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "peer-fixtures"
MAP_FILE = ROOT / "bench" / "data" / "peer_check_map.yaml"
RULES = {r.RULE.id: r for r in ALL_RULES}
OUT_OF_SCOPE = {"out-of-scope", "control-plane", "deprecated"}
IN_SCOPE_UNCOVERED = {"judged-differently", "not-implemented"}


@dataclass
class Case:
    """One fixture file, the peer check it tests and the upstream expectation (True = fail)."""

    file: Path
    check: str
    expect_fail: bool


@dataclass
class Tally:
    """Agreement counts for one peer check."""

    agree: int = 0
    total: int = 0
    unloadable: int = 0
    deliberate: int = 0
    disagreements: list[str] = field(default_factory=list)


def _checkov(base: Path, labels: dict[str, Any]) -> list[Case]:
    out = []
    for item in labels["fixtures"]:
        verdict = item.get("expected_from_filename")
        if verdict not in {"PASSED", "FAILED"}:
            continue
        for check in item["checks"]:
            out.append(Case(base / item["file"], check, verdict == "FAILED"))
    return out


def _polaris(base: Path, labels: dict[str, Any]) -> list[Case]:
    return [Case(base / f["file"], f["check"], f["expected"] == "fail")
            for f in labels["fixtures"]]


def _kube_score(base: Path, labels: dict[str, Any]) -> list[Case]:
    failing = {"GradeCritical", "GradeWarning"}
    return [Case(base / e["file"], e["check"], e["grade"] in failing)
            for e in labels["expectations"]]


def _kubesec(base: Path, labels: dict[str, Any]) -> list[Case]:
    out = []
    for asset in labels["assets"]:
        kinds = {t["assertion"] for t in asset["bats_tests"] if t.get("assertion")}
        if len(kinds) != 1:
            continue
        out.append(Case(base / asset["file"], "critical", kinds == {"assert_lt_zero_points"}))
    return out


READERS = {"checkov-k8s-fixtures": _checkov, "polaris-check-fixtures": _polaris,
           "kube-score-testdata": _kube_score, "kubesec-assets": _kubesec}


def _counts(finding: Finding, spec: dict[str, Any]) -> bool:
    evidence = " ".join(e.value or "" for e in finding.evidence)
    if spec.get("title_contains") and spec["title_contains"] not in finding.title:
        return False
    if spec.get("title_any") and not any(t in finding.title for t in spec["title_any"]):
        return False
    if spec.get("title_lacks") and spec["title_lacks"] in finding.title:
        return False
    if spec.get("evidence_contains") and spec["evidence_contains"] not in evidence:
        return False
    if spec.get("evidence_lacks") and spec["evidence_lacks"] in evidence:
        return False
    floor = (spec.get("min_impact_by_rule") or {}).get(finding.rule, spec.get("min_impact", 1))
    return finding.impact >= int(floor)


class Evaluator:
    """Loads fixtures once and runs the mapped rules on them."""

    def __init__(self, home: Path) -> None:
        self.settings = Settings(home=home)
        self.cache: dict[Path, Any] = {}

    def verdict(self, path: Path, spec: dict[str, Any]) -> bool | None:
        """True when ktmb fails the fixture for this check, None when it cannot be loaded."""
        if path not in self.cache:
            try:
                self.cache[path] = load_inputs([path], settings=self.settings).inventory
            except KtmbError:
                self.cache[path] = None
        inv = self.cache[path]
        if inv is None:
            return None
        for rule_id in spec["rules"]:
            if any(_counts(f, spec) for f in RULES[rule_id].evaluate(Facts(inv))):
                return True
        return False


def _evaluate(cases: list[Case], checks: dict[str, Any],
              evaluator: Evaluator, base: Path) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    for case in cases:
        spec = checks.get(case.check)
        if spec is None or "rules" not in spec:
            continue
        tally = tallies[case.check]
        if str(case.file.relative_to(base)) in (spec.get("disagree_on") or {}):
            tally.deliberate += 1
            continue
        verdict = evaluator.verdict(case.file, spec)
        if verdict is None:
            tally.unloadable += 1
            continue
        tally.total += 1
        if verdict == case.expect_fail:
            tally.agree += 1
        else:
            want = "fail" if case.expect_fail else "pass"
            tally.disagreements.append(f"{case.file.relative_to(base)} (peer: {want})")
    return tallies


def _print_uncovered(peer_checks: list[str], checks: dict[str, Any], details: bool) -> int:
    """Print the checks ktmb does not cover, by reason; the number without a reason."""
    missing = 0
    by_reason: dict[str, list[str]] = defaultdict(list)
    for check in peer_checks:
        spec = checks.get(check, {})
        if "uncovered" in spec:
            by_reason[spec["uncovered"]].append(check)
    for category in sorted(by_reason):
        scope = "in scope" if category in IN_SCOPE_UNCOVERED else "out of scope"
        print(f"   not covered ({category}, {scope}): {len(by_reason[category])}")
        for check in by_reason[category]:
            reason = checks[check].get("reason", "")
            if not reason:
                missing += 1
                reason = "NO REASON GIVEN"
            shown = reason if details or category in IN_SCOPE_UNCOVERED else ""
            print(f"     {check}" + (f": {shown}" if shown else ""))
        if category not in IN_SCOPE_UNCOVERED and not details:
            print(f"     reason: {checks[by_reason[category][0]]['reason']}")
    return missing


def _report_set(name: str, cases: list[Case], checks: dict[str, Any],
                tallies: dict[str, Tally], details: bool) -> tuple[int, int, int]:
    """Print one set's figures; (agree, total, problems)."""
    agree = sum(t.agree for t in tallies.values())
    total = sum(t.total for t in tallies.values())
    unloadable = sum(t.unloadable for t in tallies.values())
    deliberate = sum(t.deliberate for t in tallies.values())
    peer_checks = sorted({c.check for c in cases})
    covered = [c for c in peer_checks if "rules" in checks.get(c, {})]
    print(f"== {name}: {len(peer_checks)} peer checks with labelled fixtures, "
          f"{len(covered)} covered by ktmb rules")
    share = agree / total if total else 0.0
    print(f"   agreement on covered checks: {agree}/{total} fixtures = {share:.1%}"
          + (f" ({unloadable} fixture(s) ktmb refuses as invalid input, not counted)"
             if unloadable else "")
          + (f" ({deliberate} fixture(s) where ktmb deliberately disagrees, not counted)"
             if deliberate else ""))
    for check in covered:
        tally = tallies[check]
        line = f"     {check:<58} {tally.agree:>3}/{tally.total:<3}"
        print(line + (f"  unloadable {tally.unloadable}" if tally.unloadable else "")
              + (f"  deliberate {tally.deliberate}" if tally.deliberate else ""))
        if details:
            for item in tally.disagreements:
                print(f"         disagree: {item}")
            for item, reason in (checks[check].get("disagree_on") or {}).items():
                print(f"         deliberately: {item}: {reason}")
    problems = _print_uncovered(peer_checks, checks, details)
    unmapped = sorted(set(peer_checks) - set(checks))
    if unmapped:
        problems += len(unmapped)
        print(f"   UNMAPPED peer checks (add them to {MAP_FILE.name}): {unmapped}")
    return agree, total, problems


def run(corpus: Path, details: bool) -> int:
    """Evaluate every labelled set and print the figures; 1 when the map has a gap."""
    mapping = yaml.safe_load(MAP_FILE.read_text(encoding="utf-8"))
    unknown_rules = sorted({r for name, checks in mapping.items() if name != "defaults"
                            for spec in checks.values() for r in spec.get("rules", [])
                            if r not in RULES})
    if unknown_rules:
        print(f"map names unknown ktmb rules: {unknown_rules}")
        return 1
    problems = grand_agree = grand_total = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as home:
        evaluator = Evaluator(Path(home))
        for name, reader in READERS.items():
            labels_file = corpus / name / "labels.json"
            if not labels_file.is_file():
                print(f"== {name}: not present, skipped")
                continue
            labels = json.loads(labels_file.read_text(encoding="utf-8"))
            cases = reader(corpus / name, labels)
            checks = mapping.get(name) or {}
            tallies = _evaluate(cases, checks, evaluator, corpus / name)
            agree, total, gaps = _report_set(name, cases, checks, tallies, details)
            grand_agree += agree
            grand_total += total
            problems += gaps
    elapsed = time.perf_counter() - started
    share = grand_agree / grand_total if grand_total else 0.0
    print(f"== overall: {grand_agree}/{grand_total} = {share:.1%} agreement on covered checks "
          f"({elapsed:.1f} s)")
    if problems:
        print(f"{problems} peer check(s) without a mapping or a reason")
    return 1 if problems else 0


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--details", action="store_true",
                        help="list every disagreement and every reason")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"peer fixtures not found at {args.corpus}")
        sys.exit(2)
    sys.exit(run(args.corpus, args.details))


if __name__ == "__main__":
    main()
