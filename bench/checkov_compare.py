"""ktmb next to Checkov on every application of ../shared/corpus/apps, timed in the same run.

For each application: ktmb's findings by severity and its wall time through the library
(load_inputs + every phase's rules + architecture view + reviewer, in this process) and, when
the CLI works, through ``ktmb run --llm off`` (a fresh process, embedded database included);
Checkov's failed and passed checks and its wall time (``checkov -d APP --framework kubernetes``,
a fresh process). Checkov is installed from PyPI into the benchmark's own virtualenv (created
when missing) and runs offline: BC_SKIP_MAPPING=TRUE, CKV_NO_DOWNLOAD, --skip-download, no API
key. Target: ktmb at least 10x faster than Checkov on the same input.

Usage: python bench/checkov_compare.py [--apps DIR] [--venv /tmp/bench-checkov-venv]
       [--repeat 3] [--no-cli] [--no-install]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from agents.architecture_view import build_architecture
from agents.reviewer import review
from agents.rules.base import run_rules
from agents.rules.catalogue import ALL_RULES
from workflow.inputs import load_inputs
from workflow.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_APPS = ROOT.parent / "shared" / "corpus" / "apps"
OFFLINE_ENV = {"BC_SKIP_MAPPING": "TRUE", "CKV_NO_DOWNLOAD": "TRUE",
               "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "FALSE", "BC_API_KEY": "",
               "PRISMA_API_URL": "", "CKV_IGNORE_HIDDEN_DIRECTORIES": "TRUE"}
BANDS = ("critical", "high", "medium", "low", "info")


def ensure_checkov(venv: Path, install: bool) -> Path | None:
    """The checkov executable of the benchmark venv, installing it from PyPI when missing."""
    exe = venv / "bin" / "checkov"
    if exe.exists():
        return exe
    if not install:
        return None
    print(f"installing checkov into {venv} (PyPI) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "checkov"], check=True)
    return exe if exe.exists() else None


def ktmb_library(app: Path, home: Path) -> tuple[float, Counter[str], int]:
    """Seconds, findings by severity and resource count for the in-process pipeline."""
    started = time.perf_counter()
    inv = load_inputs([app], settings=Settings(home=home)).inventory
    findings = run_rules(ALL_RULES, inv)
    view = build_architecture(inv)
    result = review(inv, findings, architecture=view)
    elapsed = time.perf_counter() - started
    return elapsed, Counter(f.severity.value for f in result.findings), len(inv.resources)


def ktmb_cli(app: Path, home: Path) -> tuple[float, str]:
    """Seconds and a status for ``ktmb run --llm off`` in a fresh process."""
    exe = shutil.which("ktmb") or str(Path(sys.executable).parent / "ktmb")
    env = {**os.environ, "KTMB_HOME": str(home)}
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        proc = subprocess.run([exe, "run", str(app), "--llm", "off", "--app", app.name,
                               "--out", str(Path(out) / "model.json")],
                              env=env, capture_output=True, text=True, timeout=600,
                              check=False)
        elapsed = time.perf_counter() - started
    status = "ok" if proc.returncode in (0, 5) else f"exit {proc.returncode}: " + (
        proc.stderr.strip().splitlines() or ["?"])[-1][:80]
    return elapsed, status


def checkov(exe: Path, app: Path) -> tuple[float, int, int, str]:
    """Seconds, failed and passed checks for Checkov on the same directory, offline."""
    env = {**os.environ, **OFFLINE_ENV}
    started = time.perf_counter()
    proc = subprocess.run([str(exe), "-d", str(app), "--framework", "kubernetes", "-o", "json",
                           "--skip-download", "--quiet", "--compact"],
                          env=env, capture_output=True, text=True, timeout=900, check=False)
    elapsed = time.perf_counter() - started
    try:
        data: Any = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        return elapsed, -1, -1, f"exit {proc.returncode}, output not JSON"
    reports = data if isinstance(data, list) else [data]
    failed = passed = 0
    for report in reports:
        summary = report.get("summary", {}) if isinstance(report, dict) else {}
        failed += int(summary.get("failed", 0))
        passed += int(summary.get("passed", 0))
    return elapsed, failed, passed, "ok" if proc.returncode in (0, 1) else f"exit {proc.returncode}"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    """Run the comparison and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=Path, default=DEFAULT_APPS)
    parser.add_argument("--venv", type=Path, default=Path("/tmp/bench-checkov-venv"))
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; median reported")
    parser.add_argument("--no-cli", action="store_true", help="skip `ktmb run --llm off`")
    parser.add_argument("--no-install", action="store_true", help="do not install checkov")
    args = parser.parse_args()
    if not args.apps.is_dir():
        print(f"corpus apps not found at {args.apps}")
        sys.exit(2)
    exe = ensure_checkov(args.venv, not args.no_install)
    apps = sorted(p for p in args.apps.iterdir() if p.is_dir())
    rows = []
    with tempfile.TemporaryDirectory() as lib_home, tempfile.TemporaryDirectory() as cli_home:
        if not args.no_cli:  # warm-up: the first CLI run creates the embedded database
            ktmb_cli(apps[0], Path(cli_home))
        for app in apps:
            lib = [ktmb_library(app, Path(lib_home)) for _ in range(args.repeat)]
            lib_time = _median([r[0] for r in lib])
            counts, resources = lib[0][1], lib[0][2]
            cli_runs = [] if args.no_cli else [ktmb_cli(app, Path(cli_home))
                                               for _ in range(args.repeat)]
            cli_ok = [r[0] for r in cli_runs if r[1] == "ok"]
            cli_time = _median(cli_ok)
            cli_status = (cli_runs[0][1] if not cli_ok else "ok") if cli_runs else "skipped"
            ck = [checkov(exe, app) for _ in range(args.repeat)] if exe else []
            rows.append({
                "app": app.name, "resources": resources, "ktmb": counts,
                "ktmb_lib_s": lib_time, "ktmb_cli_s": cli_time, "ktmb_cli": cli_status,
                "checkov_s": _median([r[0] for r in ck]),
                "checkov_failed": ck[0][1] if ck else None,
                "checkov_passed": ck[0][2] if ck else None,
                "checkov": ck[0][3] if ck else f"not installed in {args.venv}"})
    head = (f"{'app':<32}{'res':>5}  {'ktmb C/H/M/L/I':<18}{'lib s':>8}{'cli s':>8}"
            f"{'checkov fail/pass':>19}{'ckv s':>8}{'x lib':>8}{'x cli':>8}")
    print(head)
    print("-" * len(head))
    for row in rows:
        bands = "/".join(str(row["ktmb"].get(b, 0)) for b in BANDS)
        peer = (f"{row['checkov_failed']}/{row['checkov_passed']}"
                if row["checkov_failed"] is not None else "-")
        x_lib = row["checkov_s"] / row["ktmb_lib_s"] if row["ktmb_lib_s"] else float("nan")
        x_cli = row["checkov_s"] / row["ktmb_cli_s"] if row["ktmb_cli_s"] else float("nan")
        print(f"{row['app']:<32}{row['resources']:>5}  {bands:<18}{row['ktmb_lib_s']:>8.3f}"
              f"{row['ktmb_cli_s']:>8.2f}{peer:>19}{row['checkov_s']:>8.2f}{x_lib:>8.1f}"
              f"{x_cli:>8.1f}")
    total_lib = sum(r["ktmb_lib_s"] for r in rows)
    total_ck = sum(r["checkov_s"] for r in rows)
    print("-" * len(head))
    print(f"total: ktmb library {total_lib:.2f} s, Checkov {total_ck:.2f} s; "
          f"Checkov/ktmb library = {total_ck / total_lib:.1f}x")
    cli_rows = [r for r in rows if r["ktmb_cli"] == "ok"]
    if cli_rows:
        cli_total = sum(r["ktmb_cli_s"] for r in cli_rows)
        ck_same = sum(r["checkov_s"] for r in cli_rows)
        print(f"ktmb CLI on {len(cli_rows)} app(s) where it completed: {cli_total:.2f} s vs "
              f"Checkov {ck_same:.2f} s = {ck_same / cli_total:.1f}x")
    notes = sorted({f"{r['app']}: ktmb cli {r['ktmb_cli']}" for r in rows if r["ktmb_cli"] != "ok"}
                   | {f"{r['app']}: checkov {r['checkov']}" for r in rows if r["checkov"] != "ok"})
    for note in notes:
        print("note:", note)
    print(f"(median of {args.repeat} runs per tool; x = Checkov wall time / ktmb wall time)")


if __name__ == "__main__":
    main()
