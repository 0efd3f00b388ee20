"""Wall time and peak memory of `ktmb run --llm off` and `ktmb scan` at scale, next to Checkov.

    python bench/run_scale.py [--objects 5000] [--checkov-venv /tmp/bench-checkov-venv]

Measures (1) the largest application in ../shared/corpus/apps (skipped when the corpus is
absent) and (2) a generated application of N objects (default 5,000). The embedded PostgreSQL is
started by this script before timing, so its first start is not counted; each ktmb run is a
separate process (`python -m workflow run ...`) whose peak RSS is read from the kernel.
The database's first start, migrations and the built-in knowledge base's first ingestion happen
in a warm-up run before timing. Target: under 10 s and under 1 GiB for 5,000 objects.
`ktmb scan` (rules and reviewer, no database) is timed on the same inputs as a second row.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from _project import compile_project

REPO = Path(__file__).resolve().parents[1]
CORPUS_APPS = REPO.parent / "shared" / "corpus" / "apps"


def generate(n_objects: int, out: Path) -> int:
    """Write a realistic application of about ``n_objects`` objects; returns the count."""
    docs: list[dict[str, Any]] = []
    per_ns = 100
    i = 0
    while len(docs) < n_objects:
        ns = f"team-{i // per_ns:03d}"
        if i % per_ns == 0:
            docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                         "metadata": {"name": "default-deny", "namespace": ns},
                         "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
        name = f"svc-{i:05d}"
        labels = {"app": name}
        docs.append({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {"serviceAccountName": name, "containers": [{
                    "name": "app", "image": f"registry.example.com/{name}:1.{i % 7}",
                    "ports": [{"containerPort": 8080}],
                    "env": [{"name": "LOG_LEVEL", "value": "info"},
                            {"name": "DB_PASSWORD", "value": f"pw-{i}-secret"}],
                    "securityContext": {"privileged": i % 10 == 0,
                                        "allowPrivilegeEscalation": i % 3 == 0},
                    "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}}}]}}}})
        docs.append({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": name, "namespace": ns},
                     "spec": {"type": "LoadBalancer" if i % 25 == 0 else "ClusterIP",
                              "selector": labels, "ports": [{"port": 80,
                                                             "targetPort": 8080}]}})
        docs.append({"apiVersion": "v1", "kind": "ServiceAccount",
                     "metadata": {"name": name, "namespace": ns}})
        docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                     "metadata": {"name": name, "namespace": ns},
                     "rules": [{"apiGroups": [""], "resources": ["configmaps", "secrets"]
                                if i % 5 == 0 else ["configmaps"], "verbs": ["get", "list"]}]})
        docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                     "metadata": {"name": name, "namespace": ns},
                     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                 "name": name},
                     "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]})
        docs.append({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": name, "namespace": ns},
                     "data": {"settings.yaml": f"endpoint: http://svc-{i + 1:05d}.{ns}\n"}})
        i += 1
    docs = docs[:n_objects]

    class NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: object) -> bool:
            return True

    out.write_text(yaml.dump_all(docs, Dumper=NoAliases, sort_keys=False), encoding="utf-8")
    return len(docs)


_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n")


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """Run a command; (seconds, its own peak RSS in KiB, exit code).

    A fresh wrapper process runs the command, so the peak is that command's alone (the
    RUSAGE_CHILDREN maximum of this script would include earlier children).
    """
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, *cmd], env=env, capture_output=True,
                          text=True, check=False)
    seconds = time.perf_counter() - start
    lines = proc.stderr.strip().splitlines()
    peak = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    if proc.returncode != 0:
        sys.stderr.write("\n".join(lines[-20:-1]) + "\n")
    return seconds, peak, proc.returncode


def ktmb(target: Path, env: dict[str, str], out: Path) -> tuple[float, int, int]:
    """One `ktmb run --llm off` of ``target``."""
    return timed([sys.executable, "-m", "workflow", "run", str(target), "--llm", "off",
                  "--out", str(out)], env)


def ktmb_scan(target: Path, env: dict[str, str], out: Path) -> tuple[float, int, int]:
    """One `ktmb scan` of ``target``."""
    return timed([sys.executable, "-m", "workflow", "scan", str(target), "--out", str(out)],
                 env)


def checkov(venv: Path, target: Path) -> tuple[float, int, int] | None:
    """Checkov on the same input, offline, when its benchmark venv exists."""
    exe = venv / "bin" / "checkov"
    if not exe.exists():
        return None
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_NO_DOWNLOAD": "1",
           "PRISMA_API_URL": "", "BC_API_KEY": ""}
    flag = "-d" if target.is_dir() else "-f"
    return timed([str(exe), flag, str(target), "--framework", "kubernetes", "--quiet",
                  "--compact", "--skip-download", "-o", "json"], env)



def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=5000)
    parser.add_argument("--checkov-venv", type=Path, default=Path("/tmp/bench-checkov-venv"))
    args = parser.parse_args()
    compile_project()
    work = Path(tempfile.mkdtemp(prefix="ktmb-bench-", dir="/tmp"))
    import pgserver

    from workflow.embedded_pgvector import ensure_portable_pgvector

    ensure_portable_pgvector()
    server = pgserver.get_server(  # type: ignore[attr-defined]
        work / "pgdata", cleanup_mode="delete")
    env = {**os.environ, "KTMB_HOME": str(work / "home"),
           "KTMB_DATABASE_URL": server.get_uri(), "KTMB_REDACTION_KEY": "bench"}
    # Migrate and ingest the built-in knowledge base once, outside the timing.
    # (The example application has findings, so its run cites, and so ingests, the corpus.)
    warm = REPO / "examples" / "payments" / "manifests"
    subprocess.run([sys.executable, "-m", "workflow", "run", str(warm)], env=env, check=True,
                   capture_output=True)
    rows: list[tuple[str, int, str, float, float, str]] = []
    targets: list[tuple[str, Path, int]] = []
    if CORPUS_APPS.exists():
        largest = max((p for p in CORPUS_APPS.iterdir() if p.is_dir()),
                      key=lambda p: sum(f.stat().st_size for f in p.rglob("*.y*ml")))
        count = sum(len([d for d in yaml.safe_load_all(f.read_text()) if d])
                    for f in largest.rglob("*.y*ml"))
        targets.append((f"corpus/{largest.name}", largest, count))
    else:
        print("corpus not present: skipping the corpus application")
    generated = work / "generated.yaml"
    count = generate(args.objects, generated)
    targets.append((f"generated-{count}", generated, count))
    for label, path, n in targets:
        secs, rss, code = ktmb(path, env, work / f"{label.replace('/', '_')}.json")
        rows.append((label, n, "ktmb run --llm off", secs, rss / 1024, "ok" if code == 0
                     else f"exit {code}"))
        secs, rss, code = ktmb_scan(path, env, work / f"{label.replace('/', '_')}.scan.json")
        rows.append((label, n, "ktmb scan", secs, rss / 1024, "ok" if code == 0
                     else f"exit {code}"))
        peer = checkov(args.checkov_venv, path)
        if peer is None:
            rows.append((label, n, "checkov", float("nan"), float("nan"),
                         f"not installed in {args.checkov_venv}"))
        else:
            rows.append((label, n, "checkov", peer[0], peer[1] / 1024, f"exit {peer[2]}"))
    print(f"{'input':<28} {'objects':>7}  {'tool':<20} {'wall s':>8} {'peak MiB':>9}  note")
    for label, n, tool, secs, mib, note in rows:
        print(f"{label:<28} {n:>7}  {tool:<20} {secs:>8.2f} {mib:>9.1f}  {note}")
    server.cleanup()


if __name__ == "__main__":
    main()
