"""SARIF within GitHub's limits: at most 25,000 results per run, aggregated past that, said so."""

from __future__ import annotations

import json
from typing import Any

from tests.github_sarif import github_problems
from workflow.domain.threat_model import Evidence, Finding, ThreatModel
from workflow.exports import sarif
from workflow.exports.sarif_aggregate import MAX_RESULTS, Member, aggregate


def _privileged(model: ThreatModel) -> Finding:
    return next(f for f in model.findings if f.rule == "controls.privileged-container")


def _estate(model: ThreatModel, resources: int, containers: int) -> ThreatModel:
    """The model with ``containers`` privileged-container findings on each of ``resources``."""
    template = _privileged(model)
    findings = []
    for r in range(resources):
        resource = f"Deployment/team-{r // 100:03d}/svc-{r:05d}"
        file = f"k8s/objects-{r // 100:03d}.yaml"
        for c in range(containers):
            findings.append(template.model_copy(update={
                "id": f"controls.privileged-container@{resource}#c{c}", "resources": (resource,),
                "evidence": (Evidence(resource=resource, file=file, line=10 + c,
                                      path=f"/spec/template/spec/containers/{c}/securityContext"
                                           "/privileged", value="true"),)}))
    return model.model_copy(update={"findings": tuple(findings), "attack_paths": ()})


def _run(model: ThreatModel) -> tuple[str, dict[str, Any]]:
    text = sarif.render(model)
    return text, json.loads(text)["runs"][0]


def _notes(run: dict[str, Any]) -> list[str]:
    return [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]


def test_over_the_limit_results_are_aggregated_per_rule_and_resource(model: ThreatModel) -> None:
    """30,000 pairs on 6,000 resources: one result per rule and resource, and the run says so."""
    text, run = _run(_estate(model, resources=6_000, containers=5))
    assert [] == github_problems(text)
    assert 6_000 == len(run["results"])
    assert "rule and resource" == run["properties"]["resultsAggregatedPer"]
    assert ("GitHub code scanning accepts at most 25,000 results per run and this model has "
            "30,000 (one per finding and resource): results are aggregated per rule and "
            "resource, 6,000 in all. The threat model (ktmb scan --format json) lists every "
            "finding.") == _notes(run)[0]
    first = run["results"][0]
    assert 5 == first["properties"]["findingCount"]
    assert first["message"]["text"].startswith(
        "5 finding(s) of controls.privileged-container on 1 resource(s) on "
        f"{first['properties']['resource']}, aggregated per rule and resource")
    assert [sarif.AGGREGATE_FINGERPRINT_KEY] == list(first["partialFingerprints"])
    assert 6_000 == len({r["partialFingerprints"][sarif.AGGREGATE_FINGERPRINT_KEY]
                         for r in run["results"]})


def _members(count: int, *, per_file: int = 100, resources: int | None = None,
             suppressed: bool = False) -> list[Member]:
    """``count`` pairs of one rule (results built on demand, as :func:`sarif.build` does)."""
    def member(i: int) -> Member:
        resource = f"Deployment/ns/svc-{i % (resources or count):05d}"
        return Member(rule="controls.privileged-container", resource=resource,
                      file=f"k8s/objects-{i // per_file:05d}.yaml", finding_id=f"f{i}",
                      suppressed=suppressed or i % 2 == 1,
                      build=lambda: {"message": {"text": f"pair {i}"}, "properties": {},
                                     "suppressions": [{"kind": "external"}]})
    return [member(i) for i in range(count)]


def test_at_the_limit_every_pair_is_a_result() -> None:
    """25,000 finding-and-resource pairs are 25,000 results, nothing aggregated."""
    done = aggregate(_members(MAX_RESULTS))
    assert (MAX_RESULTS, None, None) == (len(done.results), done.per, done.notification())
    assert "pair 0" == done.results[0]["message"]["text"]


def test_still_too_many_results_are_aggregated_per_rule_and_file() -> None:
    """26,000 resources with one finding each: one result per rule and file (260 files)."""
    done = aggregate(_members(26_000))
    assert (260, "rule and file") == (len(done.results), done.per)
    first = done.results[0]
    assert (100, 100) == (first["properties"]["findingCount"],
                          first["properties"]["resourceCount"])
    assert first["message"]["text"].startswith(
        "100 finding(s) of controls.privileged-container on 100 resource(s) in "
        "k8s/objects-00000.yaml, aggregated per rule and file (the run had more than 25,000 "
        "results). Most severe: pair 0")


def test_a_file_each_is_aggregated_per_rule() -> None:
    """26,000 resources in as many files: one result per rule, its lists cut at 100."""
    done = aggregate(_members(26_000, per_file=1))
    assert (1, "rule") == (len(done.results), done.per)
    properties = done.results[0]["properties"]
    assert (26_000, 100, 100) == (properties["findingCount"], len(properties["findingIds"]),
                                  len(properties["resources"]))


def test_an_aggregate_is_suppressed_only_when_all_its_pairs_are() -> None:
    """A group of suppressed pairs stays suppressed; one open pair opens its group."""
    assert all("suppressions" in r
               for r in aggregate(_members(26_000, suppressed=True)).results)
    mixed = aggregate(_members(26_000))  # every other pair is open
    assert not any("suppressions" in r for r in mixed.results)


def test_a_result_has_at_most_100_locations(model: ThreatModel) -> None:
    """300 pieces of evidence on one resource: 100 locations kept (what GitHub shows)."""
    template = _privileged(model)
    resource = template.resources[0]
    many = template.model_copy(update={"evidence": tuple(
        Evidence(resource=resource, file="k8s/web.yaml", line=line, path=f"/x/{line}", value="1")
        for line in range(1, 301))})
    _text, run = _run(model.model_copy(update={"findings": (many,)}))
    result = run["results"][0]
    assert 100 == len(result["locations"]) + len(result["relatedLocations"])
