"""ktmb next to Checkov on every application of ../shared/corpus/apps, timed in the same run.

For each application: ktmb's findings by severity and Checkov's failed and passed checks, and
both tools' wall time in five modes (``--modes``, all by default), measured in the same run:

* ``scan``: one fresh process per application and run, start-up included: ``ktmb scan APP
  --out FILE`` (rule catalogue and reviewer, no database or model: the like-for-like comparison
  with a posture scanner) next to ``checkov -d APP --framework kubernetes``; then the whole
  corpus as one input, ``ktmb scan APPS_DIR`` next to ``checkov -d APPS_DIR``; the two tools run
  alternately, so both see the same machine load. The start-up floor is measured too: the ktmb
  venv's interpreter alone, and with the libraries every ``ktmb`` command imports (typer,
  structlog, PyYAML, pydantic with one model class built);
* ``cold``: one fresh process per application and run, start-up included: ``ktmb run --llm off``
  (embedded database included) next to ``checkov -d APP --framework kubernetes``;
* ``warm``: the full pipeline in one long-lived process, as a server or batch worker runs it,
  timed per application after one warm-up run in that process: ktmb through ``Runs.start`` (the
  real LangGraph graph, PostgreSQL checkpoints on the embedded database, the built-in knowledge
  base, llm off; the library API of ``ktmb batch`` and ``ktmb worker``: ``open_database``,
  ``ContextBuilder``, ``Runs``) next to Checkov's own Python API (a new
  ``checkov.kubernetes.runner.Runner`` per scan, registries loaded once; bench/_checkov_warm.py
  run by the Checkov virtualenv's Python). Each tool's loop is a subprocess of its own, so the
  embedded database is not held open by this script during the cold and batch modes;
* ``batch``: the whole corpus in one invocation each: ``ktmb batch APP1 APP2 ... --llm off``
  (job queue, ``--batch-workers`` local workers) next to one ``checkov -d APPS_DIR``.

Checkov reads the corpus as one input with ``checkov -d APPS_DIR`` (recursively; ``checkov -d
APP1 -d APP2`` is not used: Checkov 3.3 reuses one Kubernetes runner for every ``-d``, whose
parsed definitions are cached, so it reports the first directory again for each further one).
Scanning the corpus as one tree, Checkov's graph checks (e.g. CKV2_K8S_6, pods without a
NetworkPolicy) see all applications as one cluster, so it reports a few failed checks fewer than
the per-application runs. When both ``scan`` and ``batch`` run, each round times ``ktmb batch``,
``ktmb scan APPS_DIR`` and ``checkov -d APPS_DIR`` once, one after the other.
* ``engine``: ktmb's rule engine alone in this process (load_inputs, then every phase's
  rules and the reviewer as ``ktmb scan`` runs them, no graph, no database), next to Checkov's
  cold CLI (the original comparison) and next to Checkov warm in-process.

ktmb's runs share one ktmb home (``--ktmb-home``, a temporary one by default): its embedded
database is created, migrated and its knowledge base ingested by one untimed ``ktmb run`` before
any measurement. Checkov is installed from PyPI into the benchmark's own virtualenv (``--venv``,
created when missing: ``python -m venv DIR && DIR/bin/pip install checkov``) and runs offline:
BC_SKIP_MAPPING=TRUE, CKV_NO_DOWNLOAD, --skip-download, no API key.

Targets (x = Checkov s / ktmb s, both wall time in the same run): ``ktmb scan`` at least 6x
faster than ``checkov -d`` for every corpus application, and at least 10x on the whole corpus as
one input; the other comparisons at least 10x.

ktmb's CLI modes run a regular install of this working tree in its own virtualenv
(``--ktmb-venv``, refreshed each run), as Checkov runs from its own; the ``embeddings`` extra is
installed only for the modes that build the knowledge base (cold, batch).

Usage: python bench/checkov_compare.py [--apps DIR] [--venv /tmp/bench-checkov-venv]
       [--ktmb-venv /tmp/bench-ktmb-venv]
       [--repeat 3] [--modes scan,cold,warm,batch,engine] [--batch-workers 2] [--ktmb-home DIR]
       [--no-cli] [--no-install]
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _project import compile_project

from workflow.domain.inputs import load_inputs
from workflow.domain.settings import Settings
from workflow.scan import scan

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_APPS = ROOT.parent / "shared" / "corpus" / "apps"
CHECKOV_WARM = Path(__file__).resolve().parent / "_checkov_warm.py"
OFFLINE_ENV = {"BC_SKIP_MAPPING": "TRUE", "CKV_NO_DOWNLOAD": "TRUE",
               "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "FALSE", "BC_API_KEY": "",
               "PRISMA_API_URL": "", "CKV_IGNORE_HIDDEN_DIRECTORIES": "TRUE"}
BANDS = ("critical", "high", "medium", "low", "info")
MODES = ("scan", "cold", "warm", "batch", "engine")
TARGET = 10.0
#: ``ktmb scan APP`` against ``checkov -d APP``, for every application.
SCAN_APP_TARGET = 6.0
NAN = float("nan")


def ensure_checkov(venv: Path, install: bool) -> Path | None:
    """The checkov executable of the benchmark venv, installing it from PyPI when missing.

    Its modules are compiled to bytecode first, as ``pip install`` does on a normal machine:
    a venv without bytecode under ``PYTHONDONTWRITEBYTECODE=1`` (this machine's shells) makes
    Checkov compile its 6,000 modules on every run, more than doubling its time (measured:
    5.9 s instead of 2.7 s for guestbook), which would flatter ktmb.
    """
    exe = venv / "bin" / "checkov"
    if not exe.exists():
        if not install:
            return None
        print(f"installing checkov into {venv} (PyPI) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "checkov"], check=True)
        if not exe.exists():
            return None
    subprocess.run([str(venv / "bin" / "python"), "-m", "compileall", "-q", "-j", "0",
                    str(venv / "lib")], check=False, stdout=subprocess.DEVNULL)
    return exe


#: The ktmb executable the CLI modes run (set by :func:`ensure_ktmb`).
KTMB_EXE: list[str] = []


def ensure_ktmb(venv: Path | None, install: bool, *, embeddings: bool = True) -> str:
    """A regular (non-editable) install of this working tree in its own virtualenv.

    Checkov runs from its own virtualenv, installed from PyPI; ktmb's CLI modes run the same way,
    from an installed copy of the tree (``pip install ROOT`` with its dependencies the first
    time, and the ``embeddings`` extra when ``embeddings`` asks for it, then ``--no-deps
    --force-reinstall`` to refresh the code), not from the developer's editable install, whose
    import hook costs every interpreter start about 25 ms. ``--ktmb-venv ''`` (or
    ``--no-install`` without the venv) runs the ``ktmb`` of this interpreter instead.
    """
    current = shutil.which("ktmb") or str(Path(sys.executable).parent / "ktmb")
    if venv is None:
        return current
    exe = venv / "bin" / "ktmb"
    if not install:
        return str(exe) if exe.exists() else current
    pip = [str(venv / "bin" / "pip"), "install", "-q"]
    wanted = f"{ROOT}[embeddings]" if embeddings else str(ROOT)
    if not exe.exists():
        _progress(f"installing ktmb into {venv} (PyPI for its dependencies) ...")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([*pip, wanted], check=True, capture_output=True)
    elif embeddings and not _has_module(venv, "sentence_transformers"):
        _progress(f"adding the embeddings extra to {venv} (PyPI) ...")
        subprocess.run([*pip, wanted], check=True, capture_output=True)
    _progress(f"refreshing ktmb in {venv} from {ROOT}")
    subprocess.run([*pip, "--no-deps", "--force-reinstall", str(ROOT)], check=True,
                   capture_output=True)
    return str(exe)


def _has_module(venv: Path, module: str) -> bool:
    """Whether the virtualenv's Python can import ``module`` (found, not imported)."""
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([str(venv / "bin" / "python"), "-c", code], check=False,
                          capture_output=True).returncode == 0


def _ktmb_exe() -> str:
    return KTMB_EXE[0] if KTMB_EXE else ensure_ktmb(None, False)


def _last_error(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:80]


def _json_line(text: str) -> Any:
    """The last line of ``text`` that parses as JSON (tools may print more before it)."""
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None


def _tool_env(**extra: str) -> dict[str, str]:
    """The environment of a measured tool's process: this one's without ``PYTHONPATH`` (each
    tool runs from its own virtualenv, not from this tree), and ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, **extra}


def _load() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


# ---- engine: ktmb's rules in this process ---------------------------------------------------
def ktmb_library(app: Path, home: Path) -> tuple[float, Counter[str], int]:
    """Seconds, findings by severity and resource count for the in-process rule engine."""
    started = time.perf_counter()
    inputs = load_inputs([app], settings=Settings(home=home))
    model = scan(inputs, application=app.name)
    elapsed = time.perf_counter() - started
    return elapsed, Counter(f.severity.value for f in model.findings), len(inputs.resources)


# ---- cold: one process per application ------------------------------------------------------
def ktmb_cli(app: Path, home: Path) -> tuple[float, str]:
    """Seconds and a status for ``ktmb run --llm off`` in a fresh process."""
    env = _tool_env(KTMB_HOME=str(home))
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        proc = subprocess.run([_ktmb_exe(), "run", str(app), "--llm", "off", "--app", app.name,
                               "--out", str(Path(out) / "model.json")],
                              env=env, capture_output=True, text=True, timeout=600,
                              check=False)
        elapsed = time.perf_counter() - started
    return elapsed, "ok" if proc.returncode in (0, 5) else _last_error(proc)


# ---- scan: the rule catalogue and reviewer in a fresh process --------------------------------
def ktmb_scan(target: Path) -> tuple[float, str, Counter[str]]:
    """Seconds, a status and findings by severity for ``ktmb scan TARGET`` in a fresh process."""
    with tempfile.TemporaryDirectory() as out:
        model = Path(out) / "model.json"
        started = time.perf_counter()
        proc = subprocess.run([_ktmb_exe(), "scan", str(target), "--out", str(model)],
                              env=_tool_env(), capture_output=True, text=True, timeout=600,
                              check=False)
        elapsed = time.perf_counter() - started
        if proc.returncode not in (0, 5) or not model.is_file():
            return elapsed, _last_error(proc), Counter()
        summary = json.loads(model.read_text(encoding="utf-8"))["summary"]
    return elapsed, "ok", Counter({k: v for k, v in summary["by_severity"].items() if v})


def _checkov_counts(stdout: str) -> tuple[int, int] | None:
    """Failed and passed checks summed over every JSON report Checkov printed (or None)."""
    decoder, text, at, docs = json.JSONDecoder(), stdout.strip(), 0, []
    try:
        while at < len(text):
            doc, at = decoder.raw_decode(text, at)
            docs.extend(doc if isinstance(doc, list) else [doc])
            while at < len(text) and text[at].isspace():
                at += 1
    except json.JSONDecodeError:
        return None
    failed = passed = 0
    for report in docs:
        summary = report.get("summary", {}) if isinstance(report, dict) else {}
        failed += int(summary.get("failed", 0))
        passed += int(summary.get("passed", 0))
    return failed, passed


def checkov(exe: Path, *dirs: Path) -> tuple[float, int, int, str]:
    """Seconds, failed and passed checks for one Checkov process on ``dirs``, offline."""
    env = _tool_env(**OFFLINE_ENV)
    targets = [arg for d in dirs for arg in ("-d", str(d))]
    started = time.perf_counter()
    proc = subprocess.run([str(exe), *targets, "--framework", "kubernetes", "-o", "json",
                           "--skip-download", "--quiet", "--compact"],
                          env=env, capture_output=True, text=True, timeout=1800, check=False)
    elapsed = time.perf_counter() - started
    counts = _checkov_counts(proc.stdout or "{}")
    if counts is None:
        return elapsed, -1, -1, f"exit {proc.returncode}, output not JSON"
    return elapsed, *counts, "ok" if proc.returncode in (0, 1) else f"exit {proc.returncode}"


# ---- warm: one long-lived process per tool --------------------------------------------------
def warm_ktmb_main(home: Path, repeat: int, apps: list[Path]) -> None:
    """Child mode: ktmb's full pipeline in this process, one warm-up, then each app timed."""
    from workflow.log import configure_logging

    configure_logging(level="ERROR")
    started = time.perf_counter()
    from workflow.db import open_database
    from workflow.run_setup import RunSetup
    from workflow.runs import Runs

    imported = time.perf_counter() - started
    settings = Settings(home=home, user="bench")
    started = time.perf_counter()
    db = open_database(settings)
    runs = Runs(db, RunSetup(settings, db))
    opened = time.perf_counter() - started

    def one(app: Path) -> tuple[float, str, dict[str, int]]:
        begun = time.perf_counter()
        inputs = load_inputs([app], settings=settings)
        outcome = runs.start(inputs, application=app.name, approval=[], created_by="bench")
        by_severity = (runs.threat_model(outcome.run_id).summary.by_severity
                       if outcome.status == "completed" else {})
        return time.perf_counter() - begun, outcome.status, by_severity

    warmup = one(apps[0])[0]
    results: dict[str, Any] = {}
    for app in apps:
        timed = [one(app) for _ in range(repeat)]
        results[app.name] = {"times": [t[0] for t in timed if t[1] == "completed"],
                             "status": timed[0][1], "by_severity": timed[0][2]}
    print(json.dumps({"import_s": imported, "open_s": opened, "warmup_s": warmup,
                      "apps": results}), flush=True)


def warm_ktmb(home: Path, repeat: int, apps: list[Path]) -> dict[str, Any]:
    """Run :func:`warm_ktmb_main` in a fresh process; its JSON, or ``{"error": ...}``."""
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--warm-ktmb",
                           "--ktmb-home", str(home), "--repeat", str(repeat),
                           *map(str, apps)],
                          env={**os.environ, "KTMB_HOME": str(home)}, capture_output=True,
                          text=True, timeout=3600, check=False, cwd=ROOT)
    data = _json_line(proc.stdout)
    return data if isinstance(data, dict) else {"error": _last_error(proc)}


def warm_checkov(venv: Path, repeat: int, apps: list[Path]) -> dict[str, Any]:
    """Checkov's in-process loop (bench/_checkov_warm.py) in the Checkov virtualenv."""
    proc = subprocess.run([str(venv / "bin" / "python"), str(CHECKOV_WARM), str(repeat),
                           *map(str, apps)],
                          env=_tool_env(**OFFLINE_ENV), capture_output=True, text=True,
                          timeout=3600, check=False, cwd=tempfile.gettempdir())
    data = _json_line(proc.stdout)
    return data if isinstance(data, dict) else {"error": _last_error(proc)}


# ---- batch: the whole corpus in one invocation each ------------------------------------------
def ktmb_batch(apps: list[Path], home: Path, workers: int) -> tuple[float, dict[str, Any], str]:
    """Seconds, results by application and a status for one ``ktmb batch ... --llm off``."""
    started = time.perf_counter()
    proc = subprocess.run([_ktmb_exe(), "--log-level", "ERROR", "batch", *map(str, apps),
                           "--llm", "off", "--workers", str(workers), "--json"],
                          env=_tool_env(KTMB_HOME=str(home)), capture_output=True,
                          text=True, timeout=3600, check=False)
    elapsed = time.perf_counter() - started
    try:
        results = {r["application"]: r for r in json.loads(proc.stdout)}
    except (json.JSONDecodeError, TypeError, KeyError):
        return elapsed, {}, _last_error(proc)
    bad = sorted(name for name, r in results.items() if r.get("status") != "completed")
    status = "ok" if proc.returncode == 0 and not bad else (
        f"exit {proc.returncode}, not completed: {', '.join(bad) or '-'}")
    return elapsed, results, status


@contextmanager
def _directory(path: Path | None) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="ktmb-bench-") as tmp:
        yield Path(tmp)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else NAN


def _x(peer: float, ours: float) -> float:
    return peer / ours if ours and ours == ours and peer == peer else NAN


def _s(value: float, digits: int = 2) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def _xs(value: float) -> str:
    return "-" if value != value else f"{value:.1f}"


# ---- measuring ------------------------------------------------------------------------------
def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {_load()}] {message}", file=sys.stderr, flush=True)


def measure_per_app(args: argparse.Namespace, apps: list[Path], exe: Path | None,
                    home: Path) -> list[dict[str, Any]]:
    """Engine, scan and cold modes, application by application.

    Each round runs every measured tool once, one after the other, ``--repeat`` rounds per
    application: a burst of load on this shared machine then hits both tools, not one.
    """
    rows = []
    engine, cold, scan = "engine" in args.modes, "cold" in args.modes, "scan" in args.modes
    with tempfile.TemporaryDirectory() as lib_home:
        for app in apps:
            per_app = [m for m in args.modes if m not in ("warm", "batch")]
            _progress(f"{app.name}: {', '.join(per_app)}")
            lib: list[tuple[float, Counter[str], int]] = []
            scans: list[tuple[float, str, Counter[str]]] = []
            cli_runs: list[tuple[float, str]] = []
            ck: list[tuple[float, int, int, str]] = []
            for _ in range(args.repeat):
                if engine or not lib:
                    lib.append(ktmb_library(app, Path(lib_home)))
                if scan:
                    scans.append(ktmb_scan(app))
                if cold and not args.no_cli:
                    cli_runs.append(ktmb_cli(app, home))
                if exe and (cold or engine or scan):
                    ck.append(checkov(exe, app))
            cli_ok = [r[0] for r in cli_runs if r[1] == "ok"]
            scan_ok = [r[0] for r in scans if r[1] == "ok"]
            rows.append({
                "app": app.name, "resources": lib[0][2], "engine_counts": lib[0][1],
                "ktmb_lib_s": _median([r[0] for r in lib]) if engine else NAN,
                "ktmb_scan_s": _median(scan_ok),
                "ktmb_scan": (scans[0][1] if not scan_ok else "ok") if scans else "skipped",
                "scan_counts": scans[0][2] if scans else None,
                "ktmb_cli_s": _median(cli_ok),
                "ktmb_cli": (cli_runs[0][1] if not cli_ok else "ok") if cli_runs else "skipped",
                "checkov_s": _median([r[0] for r in ck]),
                "checkov_failed": ck[0][1] if ck else None,
                "checkov_passed": ck[0][2] if ck else None,
                "checkov": ck[0][3] if ck else ("not installed" if not exe else "skipped")})
    return rows


def measure_warm(args: argparse.Namespace, apps: list[Path], exe: Path | None,
                 home: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Warm mode: one long-lived process per tool; per-app medians are added to ``rows``."""
    _progress("warm: ktmb full pipeline in one process")
    ours = warm_ktmb(home, args.repeat, apps)
    _progress("warm: Checkov Python API in one process")
    peer: dict[str, Any] = (warm_checkov(args.venv, args.repeat, apps) if exe
                            else {"error": "not installed"})
    for row in rows:
        mine = ours.get("apps", {}).get(row["app"], {})
        theirs = peer.get("apps", {}).get(row["app"], {})
        row["warm_s"] = _median(mine.get("times", []))
        row["warm_status"] = mine.get("status", ours.get("error", "?"))
        row["warm_counts"] = Counter(mine.get("by_severity", {}))
        row["checkov_warm_s"] = _median(theirs.get("times", []))
        row["checkov_warm_counts"] = (theirs.get("failed"), theirs.get("passed"))
    return {"ktmb": {k: v for k, v in ours.items() if k != "apps"},
            "checkov": {k: v for k, v in peer.items() if k != "apps"}}


def measure_corpus(args: argparse.Namespace, apps: list[Path], exe: Path | None,
                   home: Path) -> dict[str, Any]:
    """The whole corpus in one invocation per tool, ``--repeat`` rounds.

    ``ktmb scan APPS_DIR`` (scan mode: the corpus as one input, as ``checkov -d APPS_DIR`` reads
    it) and ``ktmb batch APP...`` (batch mode: a run per application through the queue and the
    graph), each round next to one ``checkov -d APPS_DIR``.
    """
    scan, batch = "scan" in args.modes, "batch" in args.modes
    ours: list[tuple[float, dict[str, Any], str]] = []
    scans: list[tuple[float, str, Counter[str]]] = []
    peer: list[tuple[float, int, int, str]] = []
    tools = ", ".join([*(["ktmb batch"] if batch else []),
                       *([f"ktmb scan {args.apps}"] if scan else []), f"checkov -d {args.apps}"])
    for i in range(args.repeat):
        _progress(f"corpus {i + 1}/{args.repeat}: {tools}")
        if batch:
            ours.append(ktmb_batch(apps, home, args.batch_workers))
        if scan:
            scans.append(ktmb_scan(args.apps))
        if exe:
            peer.append(checkov(exe, args.apps))
    ok = [r[0] for r in ours if r[2] == "ok"]
    scan_ok = [r[0] for r in scans if r[1] == "ok"]
    return {"ktmb_s": _median(ok),
            "ktmb": (ours[0][2] if not ok else "ok") if ours else "skipped",
            "ktmb_results": ours[0][1] if ours else {}, "scan_s": _median(scan_ok),
            "scan": (scans[0][1] if not scan_ok else "ok") if scans else "skipped",
            "scan_counts": scans[0][2] if scans else None,
            "checkov_s": _median([r[0] for r in peer]),
            "checkov_failed": peer[0][1] if peer else None,
            "checkov": peer[0][3] if peer else "not installed"}


#: What every ``ktmb scan`` imports before any ktmb code runs: the libraries of the command line
#: (typer), of its logs (structlog), of its inputs (PyYAML) and of its model (pydantic, with one
#: model class built).
_FLOOR_CODE = ("import typer, structlog, yaml\n"
               "from pydantic import BaseModel\n"
               "class Probe(BaseModel):\n"
               "    n: int\n")
_FLOOR_LIBRARIES = "typer, structlog, PyYAML and pydantic (one model class)"


def start_up_floor(rounds: int) -> dict[str, float]:
    """Median seconds of the ktmb venv's interpreter start, and of importing the libraries a
    scan needs with nothing else (:data:`_FLOOR_CODE`): what no ktmb code can save."""
    python = str(Path(_ktmb_exe()).parent / "python")
    floor: dict[str, float] = {}
    for label, code in (("interpreter", "pass"), ("libraries", _FLOOR_CODE)):
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            subprocess.run([python, "-c", code], env=_tool_env(), check=False,
                           capture_output=True)
            times.append(time.perf_counter() - started)
        floor[label] = _median(times)
    return floor


# ---- reporting ------------------------------------------------------------------------------
def _counts(row: dict[str, Any]) -> Counter[str]:
    """ktmb's findings by severity: the full pipeline's when it ran, else the engine's."""
    warm: Counter[str] | None = row.get("warm_counts")
    engine: Counter[str] = row["engine_counts"]
    return warm if warm else engine


def print_per_app(rows: list[dict[str, Any]], modes: list[str]) -> None:
    """Findings of both tools and the per-application timings of each mode."""
    head = (f"{'app':<32}{'res':>5}  {'ktmb C/H/M/L/I':<18}{'lib s':>8}{'scan s':>8}"
            f"{'cli s':>8}{'checkov fail/pass':>19}{'ckv s':>8}{'x lib':>7}{'x scan':>7}"
            f"{'x cli':>7}")
    print(head)
    print("-" * len(head))
    for row in rows:
        bands = "/".join(str(_counts(row).get(b, 0)) for b in BANDS)
        peer = (f"{row['checkov_failed']}/{row['checkov_passed']}"
                if row["checkov_failed"] is not None else "-")
        print(f"{row['app']:<32}{row['resources']:>5}  {bands:<18}{_s(row['ktmb_lib_s'], 3):>8}"
              f"{_s(row['ktmb_scan_s']):>8}{_s(row['ktmb_cli_s']):>8}{peer:>19}"
              f"{_s(row['checkov_s']):>8}{_xs(_x(row['checkov_s'], row['ktmb_lib_s'])):>7}"
              f"{_xs(_x(row['checkov_s'], row['ktmb_scan_s'])):>7}"
              f"{_xs(_x(row['checkov_s'], row['ktmb_cli_s'])):>7}")
    print("(ktmb C/H/M/L/I: the full pipeline's findings when warm ran, else the rule engine's; "
          "lib = engine only, scan = cold `ktmb scan APP`, cli = cold `ktmb run --llm off`, "
          "ckv = cold `checkov -d APP`)")
    if "warm" not in modes:
        return
    head = (f"{'app (warm, in-process)':<32}{'ktmb s':>9}{'ckv s':>9}{'x warm':>8}"
            f"{'lib s':>9}{'x lib/warm':>12}")
    print()
    print(head)
    print("-" * len(head))
    for row in rows:
        print(f"{row['app']:<32}{_s(row['warm_s'], 3):>9}{_s(row['checkov_warm_s'], 3):>9}"
              f"{_xs(_x(row['checkov_warm_s'], row['warm_s'])):>8}"
              f"{_s(row['ktmb_lib_s'], 3):>9}"
              f"{_xs(_x(row['checkov_warm_s'], row['ktmb_lib_s'])):>12}")
    print("(ktmb s = Runs.start through the graph with PostgreSQL checkpoints, llm off; ckv s = "
          "checkov Runner.run; x lib/warm = Checkov warm / ktmb engine only)")


def _pair(rows: list[dict[str, Any]], ours: str, theirs: str) -> tuple[float, float, float]:
    """Totals of two columns over the apps where both were measured, and the smallest app x."""
    both = [r for r in rows if r[ours] == r[ours] and r[theirs] == r[theirs]]
    if not both:
        return NAN, NAN, NAN
    return (sum(r[ours] for r in both), sum(r[theirs] for r in both),
            min(_x(r[theirs], r[ours]) for r in both))


def print_summary(rows: list[dict[str, Any]], corpus: dict[str, Any] | None,
                  modes: list[str]) -> None:
    """One line per comparison: totals, x, the smallest per-app x, its target and verdict."""
    lines: list[tuple[str, float, float, float, float]] = []
    if "scan" in modes:
        lines.append(("ktmb scan, process per app (sum)",
                      *_pair(rows, "ktmb_scan_s", "checkov_s"), SCAN_APP_TARGET))
    if "cold" in modes:
        lines.append(("ktmb run, process per app (sum)",
                      *_pair(rows, "ktmb_cli_s", "checkov_s"), TARGET))
    if "warm" in modes:
        lines.append(("warm in-process, full pipeline (sum)",
                      *_pair(rows, "warm_s", "checkov_warm_s"), TARGET))
    if corpus is not None and "scan" in modes:
        lines.append(("one invocation: ktmb scan APPS_DIR", corpus["scan_s"],
                      corpus["checkov_s"], _x(corpus["checkov_s"], corpus["scan_s"]), TARGET))
    if corpus is not None and "batch" in modes:
        lines.append(("one invocation: ktmb batch APP...", corpus["ktmb_s"],
                      corpus["checkov_s"], _x(corpus["checkov_s"], corpus["ktmb_s"]), TARGET))
    if "engine" in modes:
        lines.append(("engine only vs Checkov cold CLI (sum)",
                      *_pair(rows, "ktmb_lib_s", "checkov_s"), TARGET))
        if "warm" in modes:
            lines.append(("engine only vs Checkov warm (sum)",
                          *_pair(rows, "ktmb_lib_s", "checkov_warm_s"), TARGET))
    head = (f"{'comparison':<40}{'ktmb s':>9}{'Checkov s':>11}{'x':>8}{'min x/app':>11}"
            f"{'target':>8}  {'met':<10}")
    print()
    print(head)
    print("-" * len(head))
    for label, ours, theirs, lowest, target in lines:
        x = _x(theirs, ours)
        verdict = "-" if x != x else ("yes" if x >= target and lowest >= target else
                                      "total only" if x >= target else "no")
        print(f"{label:<40}{_s(ours):>9}{_s(theirs):>11}{_xs(x):>8}{_xs(lowest):>11}"
              f"{target:>7.0f}x  {verdict:<10}")
    print("(x = Checkov wall time / ktmb wall time; 'met' is yes when the total and every "
          "application meet the target, min x/app of a one-invocation line is its own x)")


def print_notes(rows: list[dict[str, Any]], corpus: dict[str, Any] | None,
                warm: dict[str, Any] | None, args: argparse.Namespace,
                floor: dict[str, float] | None = None) -> None:
    """Failures, cross-checks between modes, start-up costs, and the machine load."""
    notes = {f"{r['app']}: ktmb cli {r['ktmb_cli']}" for r in rows
             if r["ktmb_cli"] not in ("ok", "skipped")}
    notes |= {f"{r['app']}: ktmb scan {r['ktmb_scan']}" for r in rows
              if r["ktmb_scan"] not in ("ok", "skipped")}
    notes |= {f"{r['app']}: ktmb scan finds "
              f"{'/'.join(str(r['scan_counts'].get(b, 0)) for b in BANDS)}, the rule engine "
              f"{'/'.join(str(r['engine_counts'].get(b, 0)) for b in BANDS)}"
              for r in rows if r["scan_counts"] is not None
              and r["ktmb_scan"] == "ok" and r["scan_counts"] != r["engine_counts"]}
    notes |= {f"{r['app']}: checkov {r['checkov']}" for r in rows
              if r["checkov"] not in ("ok", "skipped")}
    notes |= {f"{r['app']}: ktmb warm {r['warm_status']}" for r in rows
              if r.get("warm_status", "completed") != "completed"}
    notes |= {f"{r['app']}: Checkov warm found {r['checkov_warm_counts'][0]} failed, its CLI "
              f"{r['checkov_failed']}" for r in rows if r.get("checkov_warm_counts")
              and r["checkov_failed"] is not None
              and r["checkov_warm_counts"][0] not in (None, r["checkov_failed"])}
    notes |= {f"{r['app']}: the rule engine alone finds "
              f"{'/'.join(str(r['engine_counts'].get(b, 0)) for b in BANDS)}, the full pipeline "
              f"{'/'.join(str(r['warm_counts'].get(b, 0)) for b in BANDS)}"
              for r in rows if r.get("warm_counts") and r["warm_counts"] != r["engine_counts"]}
    for note in sorted(notes):
        print("note:", note)
    if corpus is not None:
        per_app = [r["checkov_failed"] for r in rows if r["checkov_failed"] is not None]
        if corpus["checkov_failed"] is not None and per_app:
            why = ("" if corpus["checkov_failed"] == sum(per_app) else
                   " (its graph checks, e.g. CKV2_K8S_6, see the corpus as one cluster: a "
                   "NetworkPolicy of one application covers another's pods in the same namespace)")
            print(f"note: one-invocation Checkov reported {corpus['checkov_failed']} failed "
                  f"checks, the per-application runs {sum(per_app)}{why}")
        if {corpus["ktmb"], corpus["scan"], corpus["checkov"]} - {"ok", "skipped"}:
            print(f"note: one invocation: ktmb batch {corpus['ktmb']}, ktmb scan "
                  f"{corpus['scan']}, checkov {corpus['checkov']}")
        if "batch" in args.modes:
            print(f"note: ktmb batch ran {args.batch_workers} local worker process(es)")
    if floor is not None:
        scans = [r["ktmb_scan_s"] for r in rows if r["ktmb_scan_s"] == r["ktmb_scan_s"]]
        share = (f" ({floor['libraries'] / _median(scans):.0%} of the median `ktmb scan`)"
                 if scans else "")
        print(f"note: start-up floor of the ktmb venv: interpreter {floor['interpreter']:.3f} s, "
              f"interpreter + {_FLOOR_LIBRARIES} {floor['libraries']:.3f} s{share}")
    if warm is not None:
        for tool, info in warm.items():
            facts = ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                              for k, v in info.items())
            print(f"note: warm {tool} process: {facts} (untimed)")
    print(f"(median of {args.repeat} runs per tool and mode; 2-core machine load average "
          f"{_load()} at the end)")


def _modes(value: str) -> list[str]:
    modes = [m.strip() for m in value.split(",") if m.strip()]
    unknown = sorted(set(modes) - set(MODES))
    if unknown or not modes:
        raise argparse.ArgumentTypeError(f"modes are {', '.join(MODES)}; got {value!r}")
    return modes



def main() -> None:
    """Run the comparison and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=Path, default=DEFAULT_APPS)
    parser.add_argument("--venv", type=Path, default=Path("/tmp/bench-checkov-venv"))
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; median reported")
    parser.add_argument("--modes", type=_modes, default=list(MODES),
                        help=f"comma-separated, of {','.join(MODES)} (default all)")
    parser.add_argument("--batch-workers", type=int, default=2,
                        help="`ktmb batch --workers` (ktmb's default 2)")
    parser.add_argument("--ktmb-home", type=Path, default=None,
                        help="ktmb home to reuse (default: a temporary one)")
    parser.add_argument("--no-cli", action="store_true",
                        help="skip the cold `ktmb run --llm off` timings")
    parser.add_argument("--ktmb-venv", type=lambda v: Path(v) if v else None,
                        default=Path("/tmp/bench-ktmb-venv"),
                        help="virtualenv with a regular install of this tree for the CLI modes "
                             "('' = this interpreter's ktmb)")
    parser.add_argument("--no-install", action="store_true",
                        help="install neither checkov nor ktmb (use what is there)")
    parser.add_argument("--warm-ktmb", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    compile_project()
    if args.warm_ktmb:
        warm_ktmb_main(args.ktmb_home, args.repeat, args.paths)
        return
    if not args.apps.is_dir():
        print(f"corpus apps not found at {args.apps}")
        sys.exit(2)
    exe = ensure_checkov(args.venv, not args.no_install)
    uses_kb = ("cold" in args.modes and not args.no_cli) or "batch" in args.modes
    KTMB_EXE.append(ensure_ktmb(args.ktmb_venv, not args.no_install, embeddings=uses_kb))
    _progress(f"ktmb: {KTMB_EXE[0]}; checkov: {exe}")
    apps = sorted(p for p in args.apps.iterdir() if p.is_dir())
    uses_db = ("cold" in args.modes and not args.no_cli) or {"warm", "batch"} & set(args.modes)
    with _directory(args.ktmb_home) as home:
        if uses_db:  # untimed: creates the embedded database and ingests the knowledge base
            _progress(f"preparing the ktmb home {home}")
            prepared = ktmb_cli(apps[0], home)[1]
            if prepared != "ok":
                _progress(f"warning: preparing the ktmb home failed: {prepared}")
        rows = measure_per_app(args, apps, exe, home)
        floor = start_up_floor(3 * args.repeat) if "scan" in args.modes else None
        warm = measure_warm(args, apps, exe, home, rows) if "warm" in args.modes else None
        corpus = (measure_corpus(args, apps, exe, home)
                  if {"scan", "batch"} & set(args.modes) else None)
    print()
    print_per_app(rows, args.modes)
    print_summary(rows, corpus, args.modes)
    print_notes(rows, corpus, warm, args, floor)


if __name__ == "__main__":
    main()
