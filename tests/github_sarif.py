"""What GitHub code scanning accepts in a SARIF upload, as a check the tests share.

GitHub's documented limits ("SARIF support for code scanning" and "SARIF results exceed one or
more limits" in GitHub's code-security documentation): an upload over a hard limit is rejected
whole; past a display limit GitHub keeps only part of it. ktmb holds every number below.

| what | GitHub's maximum (rejected above) | shown by GitHub |
| --- | --- | --- |
| gzip-compressed file size | 10 MB | |
| runs per file | 20 | |
| results per run | 25,000 | the top 5,000 by severity |
| rules per run | 25,000 | |
| tool extensions per run | 100 | |
| thread flow locations per result | 10,000 | the top 1,000 |
| locations per result | 1,000 | 100 |
| tags per rule | 20 | 10 (ktmb writes at most 10) |

GitHub also shows only results with a physical location (a file), and the URIs are read
relative to the repository: ktmb writes no absolute local path.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import jsonschema  # no types-jsonschema in the dev extras
import yaml

__all__ = ["MAX_GZIP_BYTES", "MAX_RESULTS", "MAX_TAGS", "github_problems", "sarif_validator",
           "write_large_app"]

SCHEMA = Path(__file__).resolve().parent / "schemas" / "sarif-schema-2.1.0.json"

MAX_GZIP_BYTES = 10 * 1024 * 1024
MAX_RUNS = 20
MAX_RESULTS = 25_000
MAX_RULES = 25_000
MAX_EXTENSIONS = 100
MAX_THREAD_FLOW_LOCATIONS = 10_000
MAX_LOCATIONS = 1_000
#: GitHub accepts 20 and shows 10: ktmb writes no more than it shows.
MAX_TAGS = 10


def sarif_validator() -> jsonschema.Draft4Validator:
    """A validator for the published SARIF 2.1.0 schema (draft-04), formats checked."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema,
                                      format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def _thread_flow_locations(result: dict[str, Any]) -> int:
    return sum(len(flow.get("locations", []))
               for code_flow in result.get("codeFlows", [])
               for flow in code_flow.get("threadFlows", []))


def _uris(value: Any) -> list[str]:
    """Every ``uri`` string anywhere in a SARIF document."""
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k == "uri" and isinstance(v, str)]
        return found + [u for v in value.values() for u in _uris(v)]
    if isinstance(value, list):
        return [u for v in value for u in _uris(v)]
    return []


def github_problems(text: str) -> list[str]:
    """What in a SARIF log GitHub code scanning would refuse or not show (empty when none)."""
    document = json.loads(text)
    problems = [f"schema: {list(e.path)}: {e.message}"
                for e in sarif_validator().iter_errors(document)]
    size = len(gzip.compress(text.encode("utf-8")))
    if size > MAX_GZIP_BYTES:
        problems.append(f"{size} bytes gzip-compressed > {MAX_GZIP_BYTES}")
    runs = document.get("runs", [])
    if len(runs) > MAX_RUNS:
        problems.append(f"{len(runs)} runs > {MAX_RUNS}")
    for run in runs:
        results = run.get("results", [])
        rules = run["tool"]["driver"].get("rules", [])
        extensions = run["tool"].get("extensions", [])
        for count, limit, what in ((len(results), MAX_RESULTS, "results"),
                                   (len(rules), MAX_RULES, "rules"),
                                   (len(extensions), MAX_EXTENSIONS, "tool extensions")):
            if count > limit:
                problems.append(f"{count} {what} in a run > {limit}")
        problems += [f"rule {rule['id']}: {len(rule['properties']['tags'])} tags > {MAX_TAGS}"
                     for rule in rules
                     if len(rule.get("properties", {}).get("tags", [])) > MAX_TAGS]
        for result in results:
            where = f"result {result['ruleId']} {result.get('properties', {}).get('resource')}"
            locations = len(result.get("locations", [])) + len(result.get("relatedLocations", []))
            if locations > MAX_LOCATIONS:
                problems.append(f"{where}: {locations} locations > {MAX_LOCATIONS}")
            if _thread_flow_locations(result) > MAX_THREAD_FLOW_LOCATIONS:
                problems.append(f"{where}: too many thread flow locations")
            if not any("physicalLocation" in loc for loc in result.get("locations", [])):
                problems.append(f"{where}: no physical location")
        if "originalUriBaseIds" in run:
            problems.append("originalUriBaseIds records a local directory")
    problems += [f"absolute URI {uri}" for uri in _uris(document)
                 if uri.startswith(("/", "file:")) or ":" in uri.split("/", 1)[0]]
    return problems


def write_large_app(directory: Path, n_objects: int = 5_000) -> Path:
    """Write an application of ``n_objects`` Kubernetes objects, 100 per namespace file.

    Each service has a Deployment (some privileged, some escalating), a Service (some public
    LoadBalancers), a ServiceAccount, a Role and RoleBinding (some reading Secrets) and a
    ConfigMap: many rules fire on many resources, as on a real estate.
    """
    directory.mkdir(parents=True, exist_ok=True)
    docs: list[dict[str, Any]] = []
    i = 0
    while len(docs) < n_objects:
        ns = f"team-{i // 100:03d}"
        if i % 100 == 0:
            docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        name, labels = f"svc-{i:05d}", {"app": f"svc-{i:05d}"}
        docs += [
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": name, "namespace": ns, "labels": labels},
             "spec": {"selector": {"matchLabels": labels}, "template": {
                 "metadata": {"labels": labels},
                 "spec": {"serviceAccountName": name, "containers": [{
                     "name": "app", "image": f"registry.example.com/{name}:1.{i % 7}",
                     "env": [{"name": "DB_PASSWORD", "value": f"pw-{i}-value"}],
                     "securityContext": {"privileged": i % 10 == 0,
                                         "allowPrivilegeEscalation": i % 3 == 0}}]}}}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
             "spec": {"type": "LoadBalancer" if i % 25 == 0 else "ClusterIP",
                      "selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}},
            {"apiVersion": "v1", "kind": "ServiceAccount",
             "metadata": {"name": name, "namespace": ns}},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
             "metadata": {"name": name, "namespace": ns},
             "rules": [{"apiGroups": [""], "verbs": ["get", "list"],
                        "resources": ["secrets"] if i % 5 == 0 else ["configmaps"]}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
             "metadata": {"name": name, "namespace": ns},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
             "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns},
             "data": {"endpoint": f"http://svc-{i + 1:05d}.{ns}"}},
        ]
        i += 1
    docs = docs[:n_objects]
    for start in range(0, len(docs), 100):
        chunk = docs[start:start + 100]
        (directory / f"objects-{start // 100:03d}.yaml").write_text(
            yaml.safe_dump_all(chunk, sort_keys=False), encoding="utf-8")
    return directory
