"""Batch throughput: `ktmb batch` on the job queue with 1, 2 and 4 workers, next to its peers.

    python bench/batch_throughput.py [--apps 20] [--workers 1,2,4] [--embeddings off]
                                     [--skip-cold] [--skip-legacy] [--skip-sequential]

Twenty generated applications of realistic size (40-119 objects each: namespaces, network
policies, deployments, services, service accounts, RBAC, config maps; bench/run_scale.py's
generator) are analysed with the model off (``--llm off``) by:

* the queue engine, cold: ``ktmb batch APPS... --workers N`` (procrastinate; the command
  starts N local worker processes, so their start-up is inside the figures);
* the queue engine, warm: N long-running ``ktmb worker`` processes (as on other machines)
  registered before the clock starts, then ``ktmb batch --no-wait`` and the queue drained;
* the previous engine: the in-process ``ProcessPoolExecutor`` of the old ``ktmb batch`` (one
  forked child per slot, each calling ``Runs.start``), run in this script's ``--legacy`` mode;
* a sequential shell-style loop of ``ktmb run`` (one process per application).

Each measurement gets a fresh database on one embedded PostgreSQL, migrated and warmed (one
small run ingests the built-in knowledge base) before the clock starts. Reported: end-to-end
wall time (what a user waits for, process start-up included), the drain rate (first run started
to last run finished, from the queue's own events or the runs' timestamps, start-up excluded),
runs per minute, and the scaling ratio against one worker. The load average is printed with
each row: other work on the machine skews the figures.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from run_scale import generate  # noqa: E402


def make_apps(root: Path, count: int) -> list[Path]:
    """Generate ``count`` applications of 40-119 objects, one directory each."""
    apps = []
    for i in range(count):
        target = root / f"app-{i:02d}"
        target.mkdir(parents=True)
        generate(40 + (i * 37) % 80, target / "manifests.yaml")
        apps.append(target)
    return apps


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def fresh_env(server_url: str, base_env: dict[str, str], warm_app: Path) -> dict[str, str]:
    """A new database, migrated, with the built-in knowledge base ingested (outside timing)."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**base_env, "KTMB_DATABASE_URL": _with_database(server_url, name)}
    subprocess.run([sys.executable, "-m", "workflow", "run", str(warm_app), "--app", "warm-up"],
                   env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-c", "from workflow.queue import ensure_queue_schema; "
                    f"ensure_queue_schema({env['KTMB_DATABASE_URL']!r})"],
                   env=env, check=True, capture_output=True)
    return env


def _rows(env: dict[str, str], sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(env["KTMB_DATABASE_URL"], autocommit=True) as conn:
        return list(conn.execute(sql, params).fetchall())


def _runs_span(env: dict[str, str]) -> float:
    """First run created to last run finished (the warm-up run excluded)."""
    row = _rows(env, "SELECT extract(epoch FROM max(finished_at) - min(created_at)) FROM runs "
                     "WHERE application <> 'warm-up'")[0]
    return float(row[0])


def _queue_span(env: dict[str, str]) -> float:
    """First job started to last job finished, from procrastinate's events."""
    row = _rows(env, "SELECT extract(epoch FROM max(at) FILTER (WHERE type IN ('succeeded', "
                     "'failed')) - min(at) FILTER (WHERE type = 'started')) "
                     "FROM procrastinate_events")[0]
    return float(row[0])


def _statuses(env: dict[str, str]) -> dict[str, int]:
    rows = _rows(env, "SELECT status, count(*) FROM runs WHERE application <> 'warm-up' "
                      "GROUP BY status")
    return {str(s): int(n) for s, n in rows}


def _load() -> float:
    return os.getloadavg()[0]


def queue_engine(env: dict[str, str], apps: list[Path], workers: int) -> dict[str, Any]:
    load = _load()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "workflow", "batch", *map(str, apps),
                           "--workers", str(workers), "--json"],
                          env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
    return {"engine": f"queue, {workers} worker(s)", "workers": workers, "wall": wall,
            "span": _queue_span(env), "statuses": _statuses(env), "load": load}


def warm_queue_engine(env: dict[str, str], apps: list[Path], workers: int) -> dict[str, Any]:
    """Long-running workers (as on other machines): started and registered before the clock."""
    procs = [subprocess.Popen([sys.executable, "-m", "workflow", "--log-level", "ERROR",
                               "worker"], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL) for _ in range(workers)]
    try:
        while _rows(env, "SELECT count(*) FROM procrastinate_workers")[0][0] < workers:
            time.sleep(0.2)
        load = _load()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "workflow", "batch", *map(str, apps),
                        "--no-wait"], env=env, capture_output=True, check=True)
        while _rows(env, "SELECT count(*) FROM procrastinate_jobs "
                         "WHERE status IN ('todo', 'doing')")[0][0]:
            time.sleep(0.2)
        wall = time.perf_counter() - start
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=120)
    return {"engine": f"queue warm, {workers} worker(s)", "workers": workers, "wall": wall,
            "span": _queue_span(env), "statuses": _statuses(env), "load": load}


def _legacy_one(path: str) -> tuple[str, str]:
    """One application, as the old engine's child process did it."""
    from workflow.db import open_database
    from workflow.domain.inputs import load_inputs
    from workflow.domain.settings import load_settings
    from workflow.run_setup import RunSetup
    from workflow.runs import Runs

    settings = load_settings()
    db = open_database(settings)
    runs = Runs(db, RunSetup(settings, db))
    name = Path(path).name
    inputs = load_inputs([path], settings=settings)
    outcome = runs.start(inputs, application=name, approval=[], created_by="bench")
    return name, outcome.status


def legacy_main(workers: int, paths: list[str]) -> None:
    """The old `ktmb batch` engine: a ProcessPoolExecutor of forked children."""
    # Imported before the fork, as the old CLI had them (its parent also opened the database
    # before forking; here each child opens its own, so no pool is shared across processes).
    for module in ("workflow.runs", "workflow.run_setup", "workflow.domain.inputs"):
        importlib.import_module(module)

    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(_legacy_one, paths))
    print(json.dumps({"wall_in_process": time.perf_counter() - start, "results": results}))


def legacy_engine(env: dict[str, str], apps: list[Path], workers: int) -> dict[str, Any]:
    load = _load()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--legacy",
                           str(workers), *map(str, apps)],
                          env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
    return {"engine": f"old ProcessPoolExecutor, {workers}", "workers": workers, "wall": wall,
            "span": _runs_span(env), "statuses": _statuses(env), "load": load}


def sequential_loop(env: dict[str, str], apps: list[Path]) -> dict[str, Any]:
    load = _load()
    start = time.perf_counter()
    for app in apps:
        subprocess.run([sys.executable, "-m", "workflow", "run", str(app)], env=env,
                       capture_output=True, check=False)
    wall = time.perf_counter() - start
    return {"engine": "sequential `ktmb run` loop", "workers": 1, "wall": wall,
            "span": _runs_span(env), "statuses": _statuses(env), "load": load}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--embeddings", default="off",
                        help="KTMB_EMBEDDINGS for every engine (default off: the model is off)")
    parser.add_argument("--skip-sequential", action="store_true")
    parser.add_argument("--skip-legacy", action="store_true")
    parser.add_argument("--skip-cold", action="store_true",
                        help="skip `ktmb batch --workers N` (workers started by the batch)")
    parser.add_argument("--legacy", type=int, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.legacy:
        legacy_main(args.legacy, rest)
        return
    counts = [int(n) for n in args.workers.split(",")]
    work = Path(tempfile.mkdtemp(prefix="ktmb-batch-bench-", dir="/tmp"))
    import pgserver

    from workflow.embedded_pgvector import ensure_portable_pgvector

    ensure_portable_pgvector()
    server = pgserver.get_server(  # type: ignore[attr-defined]
        work / "pgdata", cleanup_mode="delete")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("KTMB_")}
    base_env.update({"KTMB_HOME": str(work / "home"), "KTMB_REDACTION_KEY": "bench",
                     "KTMB_EMBEDDINGS": args.embeddings, "KTMB_USER": "bench"})
    apps = make_apps(work / "apps", args.apps)
    warm = work / "warm"
    warm.mkdir()
    generate(10, warm / "manifests.yaml")
    objects = [len([d for d in p.joinpath("manifests.yaml").read_text().split("\n---") if d])
               for p in apps]
    print(f"{len(apps)} applications, {min(objects)}-{max(objects)} objects each "
          f"({sum(objects)} in all); {os.cpu_count()} CPUs; KTMB_EMBEDDINGS={args.embeddings}",
          flush=True)
    rows: list[dict[str, Any]] = []
    for n in [] if args.skip_cold else counts:
        rows.append(queue_engine(fresh_env(server.get_uri(), base_env, warm), apps, n))
        print(json.dumps(rows[-1]), flush=True)
    for n in counts:
        rows.append(warm_queue_engine(fresh_env(server.get_uri(), base_env, warm), apps, n))
        print(json.dumps(rows[-1]), flush=True)
    if not args.skip_legacy:
        for n in counts:
            rows.append(legacy_engine(fresh_env(server.get_uri(), base_env, warm), apps, n))
            print(json.dumps(rows[-1]), flush=True)
    if not args.skip_sequential:
        rows.append(sequential_loop(fresh_env(server.get_uri(), base_env, warm), apps))
        print(json.dumps(rows[-1]), flush=True)
    base = {r["engine"].split(",")[0]: r for r in rows if r["workers"] == 1}
    # wall: start of `ktmb batch` (or of the loop / pool) to the last run finished;
    # drain: first run started to last run finished (process start-up excluded)
    print()
    print(f"{'engine':<34} {'wall s':>7} {'runs/min':>9} {'x1 wall':>8} {'drain s':>8} "
          f"{'runs/min':>9} {'x1 drain':>9} {'load':>5}  statuses")
    for r in rows:
        one = base.get(r["engine"].split(",")[0], r)
        done = sum(r["statuses"].values())
        print(f"{r['engine']:<34} {r['wall']:>7.1f} {done / r['wall'] * 60:>9.1f} "
              f"{one['wall'] / r['wall']:>8.2f} {r['span']:>8.1f} "
              f"{done / r['span'] * 60:>9.1f} {one['span'] / r['span']:>9.2f} "
              f"{r['load']:>5.1f}  {r['statuses']}")
    server.cleanup()


if __name__ == "__main__":
    main()
