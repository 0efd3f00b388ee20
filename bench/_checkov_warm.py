"""Checkov warm and in-process: one long-lived process, checks loaded once, one warm-up run.

Run by bench/checkov_compare.py with the Python of the benchmark's Checkov virtualenv (Checkov is
not a ktmb dependency, so this file imports nothing from ktmb):

    /tmp/bench-checkov-venv/bin/python bench/_checkov_warm.py REPEAT APP [APP ...]

Imports Checkov's Kubernetes runner once (its check registries are module-level and load on
import), scans the first application once untimed (warm-up), then scans every application
REPEAT times, each with a new ``checkov.kubernetes.runner.Runner`` (a Runner caches the parsed
definitions of its first scan, so reusing one would rescan the first directory) and
``RunnerFilter(framework=["kubernetes"])``, as ``checkov -d APP --framework kubernetes`` does.
Prints one JSON line on standard output: import and warm-up seconds, and per application the
seconds of each scan and the failed and passed checks. The caller sets the offline environment
(BC_SKIP_MAPPING, CKV_NO_DOWNLOAD, no API key).
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any


def scan(runner_cls: Any, filter_cls: Any, app: Path) -> tuple[float, int, int]:
    """Seconds, failed and passed checks of one in-process Checkov scan of ``app``."""
    started = time.perf_counter()
    result = runner_cls().run(root_folder=str(app),
                              runner_filter=filter_cls(framework=["kubernetes"]))
    elapsed = time.perf_counter() - started
    reports = result if isinstance(result, list) else [result]
    failed = sum(len(r.failed_checks) for r in reports)
    passed = sum(len(r.passed_checks) for r in reports)
    return elapsed, failed, passed


def main(argv: list[str]) -> None:
    """Warm up, time every application ``repeat`` times, print the JSON line."""
    repeat, apps = int(argv[0]), [Path(a) for a in argv[1:]]
    logging.disable(logging.WARNING)
    started = time.perf_counter()
    runner_cls = importlib.import_module("checkov.kubernetes.runner").Runner
    filter_cls = importlib.import_module("checkov.runner_filter").RunnerFilter
    imported = time.perf_counter() - started
    warmup = scan(runner_cls, filter_cls, apps[0])[0]
    results: dict[str, Any] = {}
    for app in apps:
        runs = [scan(runner_cls, filter_cls, app) for _ in range(repeat)]
        results[app.name] = {"times": [r[0] for r in runs], "failed": runs[0][1],
                             "passed": runs[0][2]}
    version = importlib.import_module("checkov.version").version
    sys.stdout.write(json.dumps({"checkov": version, "import_s": imported, "warmup_s": warmup,
                                 "apps": results}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
