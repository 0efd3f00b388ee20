"""HTTP API latency under 20 concurrent clients, and `ktmb serve` start-up to first page.

    python bench/api_latency.py [--clients 20] [--requests 2000] [--runs 10] [--starts 3]

1. Start-up: spawns `python -m workflow serve` on a free loopback port (--starts times) and
   times from the spawn to the first served page (GET /ui/login answers 200) and to /health.
   The first start also migrates a fresh database. Peer: `python -m workflow --help`, the
   interpreter and CLI import floor of any ktmb command.
2. Latency: with the last server running, starts --runs runs (the example payments app, gate
   after the architecture phase) through the API, then --clients concurrent httpx clients send
   --requests GETs in all to /runs/{id} (status) and as many to /runs/{id}/pending, over the
   runs in turn. Reported: p50, p95, p99 and max per endpoint, and requests per second.
   Peer (floor): the same reads straight from the database in this process (Runs + RunStore,
   as the endpoints call them) with the same number of threads, no HTTP, no auth, no JSON.

Loopback only. The database is KTMB_DATABASE_URL (a fresh database is created on that server)
or a private embedded PostgreSQL started by this script (not counted in any figure).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "payments"
TOKEN = secrets.token_urlsafe(24)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return {"n": len(ordered), "p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99),
            "max": ordered[-1] * 1000, "mean": statistics.fmean(ordered) * 1000}


def database(root: Path) -> tuple[str, Any]:
    """A fresh database URL on KTMB_DATABASE_URL's server or a private embedded one."""
    server = None
    base = os.environ.get("KTMB_DATABASE_URL")
    if not base:
        import pgserver

        server = pgserver.get_server(  # type: ignore[attr-defined]
            root / "pgdata", cleanup_mode="stop")
        base = str(server.get_uri())
    name = f"ktmb_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    if "?" in base:
        head, query = base.split("?", 1)
        url = head.rsplit("/", 1)[0] + f"/{name}?{query}"
    else:
        url = base.rsplit("/", 1)[0] + f"/{name}"
    return url, server


def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str,
                                                           float, float]:
    """Spawn `ktmb serve`; (process, base URL, seconds to /health, seconds to first page)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "workflow", "serve", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    health = page = 0.0
    with httpx.Client(timeout=5) as client:
        while not page:
            if proc.poll() is not None:
                raise SystemExit(f"ktmb serve exited with {proc.returncode}; see {log}")
            try:
                if not health and client.get(f"{base}/health").status_code == 200:
                    health = time.perf_counter() - t0
                if health and client.get(f"{base}/ui/login").status_code == 200:
                    page = time.perf_counter() - t0
            except httpx.TransportError:
                time.sleep(0.02)
            if time.perf_counter() - t0 > 120:
                raise SystemExit("ktmb serve did not answer within 120 s")
    return proc, base, health, page


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_runs(base: str, count: int) -> list[str]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    files = [("manifests", (p.name, p.read_bytes(), "application/yaml"))
             for p in sorted((EXAMPLE / "manifests").glob("*.yaml"))]
    run_ids = []
    with httpx.Client(timeout=60, headers=headers) as client:
        for i in range(count):
            response = client.post(f"{base}/runs", files=files,
                                   data={"application": f"bench-{i:02d}",
                                         "approval": "architecture"})
            response.raise_for_status()
            run_ids.append(response.json()["run_id"])
        for run_id in run_ids:
            while True:
                body = client.get(f"{base}/runs/{run_id}").json()
                if body["status"] == "awaiting_approval" and not body["busy"]:
                    break
                if body["status"] not in {"queued", "running", "awaiting_approval"}:
                    raise SystemExit(f"run {run_id} ended {body['status']}: {body['error']}")
                time.sleep(0.05)
    return run_ids


async def http_load(base: str, paths: list[str], clients: int) -> tuple[list[float], float]:
    """GET every path once with ``clients`` concurrent connections; (latencies, seconds)."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    samples: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits,
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        async def worker() -> None:
            nonlocal errors
            while True:
                try:
                    path = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t = time.perf_counter()
                response = await client.get(path)
                samples.append(time.perf_counter() - t)
                if response.status_code != 200:
                    errors += 1

        t0 = time.perf_counter()
        c0 = time.process_time()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - t0
        client_cpu = time.process_time() - c0
    if len(samples) > 100:
        print(f"    (bench client CPU {client_cpu:.1f} s of {elapsed:.1f} s wall)")
    if errors:
        raise SystemExit(f"{errors} requests failed")
    return samples, elapsed


def direct_load(url: str, home: Path, run_ids: list[str], requests: int, clients: int,
                kind: str) -> tuple[list[float], float]:
    """The same reads straight from the database, ``clients`` threads, no HTTP."""
    from workflow.db import open_database
    from workflow.domain.settings import Settings
    from workflow.runs import Runs

    settings = Settings(home=home, database_url=url, redaction_key="bench")
    runs = Runs(open_database(settings, max_size=24))

    def status(run_id: str) -> None:
        runs.info(run_id)
        runs.state(run_id)
        runs.store.approvals(run_id)

    def pending(run_id: str) -> None:
        runs.info(run_id)
        runs.pending(run_id)

    call = status if kind == "status" else pending

    def timed(run_id: str) -> float:
        t = time.perf_counter()
        call(run_id)
        return time.perf_counter() - t

    ids = [run_ids[i % len(run_ids)] for i in range(requests)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        samples = list(pool.map(timed, ids))
    return samples, time.perf_counter() - t0


def cli_floor(env: dict[str, str], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "workflow", "--help"], env=env, check=True,
                       capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def row(label: str, stats: dict[str, float], rps: float) -> str:
    return (f"  {label:<34} n={stats['n']:<5} p50 {stats['p50']:7.1f} ms  "
            f"p95 {stats['p95']:7.1f} ms  p99 {stats['p99']:7.1f} ms  "
            f"max {stats['max']:7.1f} ms  {rps:7.0f} req/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000,
                        help="requests per endpoint (bounded)")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    args.requests = min(args.requests, 20_000)

    root = Path(tempfile.mkdtemp(prefix="ktmb-bench-api-"))
    server = None
    procs: list[subprocess.Popen[bytes]] = []
    try:
        url, server = database(root)
        home = root / "home"
        home.mkdir()
        tokens = root / "tokens"
        tokens.write_text(f"{TOKEN} bench bench\n", encoding="utf-8")
        tokens.chmod(0o600)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KTMB_")}
        env.update({"KTMB_HOME": str(home), "KTMB_DATABASE_URL": url,
                    "KTMB_REDACTION_KEY": "bench", "KTMB_API_TOKENS_FILE": str(tokens),
                    "KTMB_EMBEDDINGS": "off", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
        log = root / "serve.log"

        load = os.getloadavg()
        print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / "
              f"{load[2]:.1f} (1/5/15 min) at the start")
        print(f"ktmb serve start-up ({args.starts} starts; the first migrates a fresh database)")
        starts = []
        for i in range(args.starts):
            proc, base, health, page = start_server(env, log)
            starts.append((health, page))
            print(f"  start {i + 1}: /health after {health:5.2f} s, first page (/ui/login) "
                  f"after {page:5.2f} s")
            if i < args.starts - 1:
                stop(proc)
            else:
                procs.append(proc)
        print(f"  median first page: {statistics.median(p for _, p in starts):.2f} s; "
              f"peer `python -m workflow --help`: {cli_floor(env):.2f} s")

        run_ids = start_runs(base, args.runs)
        print(f"\nread latency, {args.clients} concurrent clients, {args.runs} runs waiting "
              f"at a gate, {args.requests} requests per endpoint (loopback)")
        for kind, suffix in (("status", ""), ("pending", "/pending")):
            paths = [f"/runs/{run_ids[i % len(run_ids)]}{suffix}" for i in range(args.requests)]
            asyncio.run(http_load(base, paths[: args.clients * 2], args.clients))  # warm-up
            before = cpu_seconds(procs[0].pid)
            samples, elapsed = asyncio.run(http_load(base, paths, args.clients))
            used = cpu_seconds(procs[0].pid) - before
            print(row(f"HTTP GET /runs/{{id}}{suffix}", percentiles(samples),
                      len(samples) / elapsed))
            print(f"    (server CPU {used:.1f} s of {elapsed:.1f} s wall: "
                  f"{used / len(samples) * 1000:.1f} ms per request)")
            one, one_elapsed = asyncio.run(http_load(base, paths[:200], 1))
            print(row("  same, 1 client", percentiles(one), len(one) / one_elapsed))
            floor, floor_elapsed = direct_load(url, home, run_ids, args.requests, args.clients,
                                               kind)
            print(row(f"  peer: direct DB reads ({kind})", percentiles(floor),
                      len(floor) / floor_elapsed))
        load = os.getloadavg()
        print(f"\nload average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    finally:
        for proc in procs:
            stop(proc)
        from workflow import db as db_module

        db_module.close_all()
        if server is not None:
            server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
