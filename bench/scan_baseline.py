"""Time of `ktmb scan --baseline` on a one-file change in a 500-object repository.

    python bench/scan_baseline.py [--objects 500] [--repeat 5]

A generated repository of N objects (default 500) in 50 manifest files, with an application
profile and a suppressions file, is scanned once to write the baseline (as CI would on the
main branch). One file is then changed (a privileged container is added to one Deployment and
its image tag bumped) and `ktmb scan DIR --baseline main.json --fail-on high` is timed in fresh
processes, next to a plain `ktmb scan DIR` of the same tree (the peer). Target: under 2 s.
Prints the figures and whether the gate named exactly the new finding.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from _project import ROOT, compile_project

TARGET_SECONDS = 2.0
FILES = 50


def _deployment(i: int, ns: str, *, privileged: bool = False, tag: str = "1.0"
                ) -> list[dict[str, Any]]:
    name = f"svc-{i:04d}"
    labels = {"app": name}
    container: dict[str, Any] = {
        "name": "app", "image": f"registry.example.com/{name}:{tag}",
        "ports": [{"containerPort": 8080}],
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"},
                            **({"privileged": True} if privileged else {})},
        "resources": {"limits": {"cpu": "500m", "memory": "256Mi"},
                      "requests": {"cpu": "100m", "memory": "64Mi"}}}
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": name, "namespace": ns, "labels": labels},
         "spec": {"selector": {"matchLabels": labels}, "template": {
             "metadata": {"labels": labels},
             "spec": {"serviceAccountName": name, "automountServiceAccountToken": False,
                      "containers": [container]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
         "spec": {"type": "LoadBalancer" if i % 25 == 0 else "ClusterIP", "selector": labels,
                  "ports": [{"port": 80, "targetPort": 8080}]}},
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": name, "namespace": ns}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns},
         "data": {"LOG_LEVEL": "info"}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": name, "namespace": ns},
         "spec": {"podSelector": {"matchLabels": labels}, "policyTypes": ["Ingress"],
                  "ingress": [{"from": [{"podSelector": {"matchLabels": {"tier": "edge"}}}]}]}},
    ]


def _dump(docs: list[dict[str, Any]]) -> str:
    class NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: object) -> bool:
            return True

    return yaml.dump_all(docs, Dumper=NoAliases, sort_keys=False)


def generate(root: Path, objects: int) -> Path:
    """A repository of about ``objects`` objects in FILES files; the file to change."""
    per_app = 5
    apps = max(1, objects // per_app)
    per_file = max(1, apps // FILES)
    first = root / "app-000.yaml"
    for f in range(0, apps, per_file):
        docs = [doc for i in range(f, min(apps, f + per_file))
                for doc in _deployment(i, f"team-{i // 20:02d}")]
        (root / f"app-{f // per_file:03d}.yaml").write_text(_dump(docs), encoding="utf-8")
    (root / "ktmb.yaml").write_text(
        "name: bench\nowner: platform\ndata_classification: internal\ncloud: eks\n"
        "answers:\n  audit_logging: enabled\n  log_retention: 1y\n  log_shipping: enabled\n"
        "  runtime_detection: falco\n  encryption_at_rest: enabled\n  backup: enabled\n"
        "  admission_control: kyverno\n", encoding="utf-8")
    (root / "ktmb-suppressions.yaml").write_text(
        "- rule: controls.image-not-pinned\n  owner: platform\n  reason: immutable tags\n"
        "  expires: 2099-12-31\n", encoding="utf-8")
    return first


def change(path: Path) -> None:
    """The one-file change: svc-0000 gets a privileged container and a new image tag."""
    docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    docs[:5] = _deployment(0, "team-00", privileged=True, tag="1.1")
    path.write_text(_dump(docs), encoding="utf-8")


def ktmb(env: dict[str, str], *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """A fresh ``python -m workflow`` process; its wall time and result."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "workflow", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False)
    return time.perf_counter() - start, proc


def _figures(times: list[float]) -> str:
    return (f"min {min(times):.2f} s, median {statistics.median(times):.2f} s, "
            f"max {max(times):.2f} s")


def main() -> int:
    """Generate, scan the baseline, change a file, time the gate; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5, choices=range(1, 101),
                        metavar="1-100")
    args = parser.parse_args()
    compile_project()
    with tempfile.TemporaryDirectory(prefix="ktmb-bench-baseline-") as tmp:
        work = Path(tmp)
        repo = work / "repo"
        repo.mkdir()
        target = generate(repo, args.objects)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KTMB_")}
        env.update({"KTMB_HOME": str(work / "home"), "KTMB_REDACTION_KEY": "bench",
                    "PYTHONPATH": str(ROOT)})
        baseline = work / "main.json"
        seconds, proc = ktmb(env, "scan", str(repo), "--out", str(baseline))
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            return 1
        summary = next((line for line in proc.stderr.splitlines() if "findings" in line), "")
        print(f"repository: {args.objects} objects in {len(list(repo.glob('app-*.yaml')))} "
              f"files; baseline scan {seconds:.2f} s ({summary.strip()})")
        change(target)
        gated: list[float] = []
        plain: list[float] = []
        last: subprocess.CompletedProcess[str] | None = None
        for _ in range(args.repeat):
            seconds, last = ktmb(env, "scan", str(repo), "--baseline", str(baseline),
                                 "--fail-on", "high", "--out", str(work / "pr.json"))
            gated.append(seconds)
            seconds, _ = ktmb(env, "scan", str(repo), "--out", str(work / "plain.json"))
            plain.append(seconds)
        if last is None:
            return 1
        named = [line.split()[2] for line in last.stderr.splitlines()
                 if line.startswith(("  new ", "  changed "))]
        print(f"scan --baseline --fail-on high (one file changed), {args.repeat} runs: "
              f"{_figures(gated)}; exit {last.returncode}")
        print(f"plain scan of the same tree (peer), {args.repeat} runs: {_figures(plain)}")
        print(f"gate named: {', '.join(named) or 'nothing'}")
        verdict = "met" if statistics.median(gated) < TARGET_SECONDS else "MISSED"
        print(f"target: median under {TARGET_SECONDS:.0f} s: {verdict}")
        return 0 if verdict == "met" and last.returncode == 5 else 1


if __name__ == "__main__":
    sys.exit(main())
