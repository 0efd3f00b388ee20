"""``ktmb paths`` in process: a threat-model file's paths, filtered and as if findings were
fixed (the model carries its graph, so no manifests are needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from workflow.cli import app

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "examples" / "payments" / "manifests"
EXEC = "identity.pod-exec@ServiceAccount/payments/settlement#cluster"
READ = "identity.secrets-read@ServiceAccount/payments/settlement#cluster"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's threat model written by ``ktmb scan --out``."""
    out = tmp_path_factory.mktemp("paths") / "payments.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KTMB_HOME", str(out.parent / "home"))
        result = CliRunner().invoke(app, ["scan", str(MANIFESTS), "--out", str(out)])
    assert 0 == result.exit_code, result.output
    return out


def paths(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["paths", *map(str, args)])


def test_paths_are_printed_most_severe_first(model_file: Path) -> None:
    """Each line is one path, its band and score first, its hops with their attacks."""
    result = paths(model_file, "--limit", "1")
    assert 0 == result.exit_code, result.output
    assert ("16 path(s), the first 1:\n[critical  8.0] internet -> Service/payments/payments-api "
            "[ROUTE] -> Deployment/payments/payments-api [ENDPOINT_EXPLOIT] -> "
            "StatefulSet/payments/payments-db [ENDPOINT_EXPLOIT]\n") in result.output


def test_filters_by_origin_and_target(model_file: Path) -> None:
    """--from a vertex and --to a target kind keep only those paths."""
    result = paths(model_file, "--from", "Deployment/payments/payments-api", "--to", "cloud",
                   "--json")
    assert 0 == result.exit_code, result.output
    report = json.loads(result.output)
    assert ["Deployment/payments/payments-api=>CloudIdentity/arn:aws:iam::111122223333:role/"
            "payments-api"] == [p["id"] for p in report["paths"]]


def test_without_recomputes_as_if_the_findings_were_fixed(model_file: Path) -> None:
    """Fixing the exec and secret-read grants removes the paths that took them."""
    before = json.loads(paths(model_file, "--json").output)
    result = paths(model_file, "--without", EXEC, "--without", READ, "--json")
    assert 0 == result.exit_code, result.output
    after = json.loads(result.output)
    assert [] == [p["id"] for p in after["paths"] if EXEC in p["findings"]
                  or READ in p["findings"]]
    assert before["total"] - len(after["removed"]) == after["total"]
    assert "CronJob/payments/settlement=>Secrets/*" in after["removed"]


@pytest.mark.parametrize(("args", "message"), [
    (("--without", "nope@x"), "--without: no finding 'nope@x' in this threat model"),
    (("--to", "moon"), "--to must be one of cluster, node, cloud, data, secrets, got 'moon'"),
    (("--from", "Pod/x/y"), "--from 'Pod/x/y' is neither an origin kind"),
])
def test_bad_options_are_one_line_and_exit_2(model_file: Path, args: tuple[str, ...],
                                            message: str) -> None:
    """An unknown finding, target kind or origin is refused with one line (exit 2)."""
    result = paths(model_file, *args)
    assert 2 == result.exit_code
    assert message in result.output
