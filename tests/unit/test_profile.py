"""The application profile: its published schema, one-line errors, front matter, discovery."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from workflow.domain.errors import InventoryError
from workflow.domain.inputs import load_inputs
from workflow.domain.profile import EtcdEncryption, Toggle, json_schema_text, retention_days
from workflow.domain.profile_loader import merge_profiles, profile_from_notes, read_profile
from workflow.domain.safe_yaml import Limits
from workflow.domain.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SCHEMA_FILE = REPO / "docs" / "schemas" / "profile.schema.json"
LIMITS = Limits(max_file_bytes=1_000_000, max_documents=10, max_depth=32, max_aliases=10,
                max_nodes=10_000, max_object_bytes=1_000_000, max_input_bytes=1_000_000,
                max_containers=1, max_total_containers=1)
DEPLOYMENT = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n"
              "spec:\n  template:\n    spec:\n      containers:\n      - name: web\n"
              "        image: web:1\n")
FULL = """\
name: payments
owner: team-payments
data_classification: [pci, personal]
cloud: eks
exposure: internet
risk_appetite: policies/risk.md#payments
answers:
  audit_logging: disabled
  log_retention: 1y
  log_shipping: yes
  runtime_detection: none
  encryption_at_rest: enabled
  backup: disabled
  etcd_encryption: kms
  admission_control: kyverno
  cluster_operator: platform team
"""


def test_published_schema_is_current() -> None:
    """docs/schemas/profile.schema.json is the schema of the code."""
    assert json_schema_text() == SCHEMA_FILE.read_text(encoding="utf-8"), (
        "stale: python -m workflow.domain.profile > docs/schemas/profile.schema.json")


def test_module_main_prints_the_schema() -> None:
    """``python -m workflow.domain.profile`` prints exactly the published file."""
    out = subprocess.run([sys.executable, "-m", "workflow.domain.profile"],
                         capture_output=True, check=True, cwd=REPO, timeout=60)
    assert SCHEMA_FILE.read_bytes() == out.stdout


def test_a_full_profile_validates_against_the_schema_and_keeps_its_lines() -> None:
    """Every key is read, YAML's yes is enabled, and each value knows its line."""
    import yaml

    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
                                    ).validate(yaml.safe_load(FULL.replace("yes", "enabled")))
    loaded = read_profile("ktmb.yaml", FULL, LIMITS)
    answers = loaded.profile.answers
    assert (Toggle.DISABLED, "1y", Toggle.ENABLED, "none", EtcdEncryption.KMS) == (
        answers.audit_logging, answers.log_retention, answers.log_shipping,
        answers.runtime_detection, answers.etcd_encryption)
    assert ("pci", "personal") == loaded.profile.data_classification
    assert ["ktmb.yaml:2", "ktmb.yaml:8", "ktmb.yaml:16"] == [
        str(loaded.where(k)) for k in ("owner", "answers.audit_logging",
                                       "answers.cluster_operator")]


@pytest.mark.parametrize(("text", "message"), [
    ("answers:\n  audit_logging: maybe\n",
     "ktmb.yaml:2: answers.audit_logging: must be one of enabled, disabled, got 'maybe'"),
    ("answers:\n  audit_log: enabled\n",
     "ktmb.yaml:2: answers.audit_log: unknown key (known: audit_logging, log_retention, "
     "log_shipping, runtime_detection, encryption_at_rest, backup, etcd_encryption, "
     "admission_control, cluster_operator)"),
    ("nmae: shop\n", "ktmb.yaml:1: nmae: unknown key (known: name, owner, "
     "data_classification, cloud, exposure, risk_appetite, answers)"),
    ("owner: a\nanswers:\n  log_retention: 3 weeks\n",
     "ktmb.yaml:3: answers.log_retention: is not a duration; write e.g. 90d, 12w, 13m or 1y "
     "(or none)"),
    ("cloud: azure\n", "ktmb.yaml:1: cloud: must be one of eks, gke, aks, on-prem, other, "
     "got 'azure'"),
    ("exposure: public\n", "ktmb.yaml:1: exposure: must be one of internet, internal, "
     "cluster, got 'public'"),
    ("owner: ' '\n", "ktmb.yaml:1: owner: must not be blank"),
    ("data_classification: [pci, 3]\n",
     "ktmb.yaml:1: data_classification.1: must be text, got 3"),
    ("answers: enabled\n", "ktmb.yaml:1: answers: must be a mapping of keys"),
    ("- owner: a\n", "ktmb.yaml:1: a profile is a mapping of keys (name, owner, "
     "data_classification, cloud, exposure, risk_appetite, answers)"),
    ("owner: a\nowner: b\n", "ktmb.yaml:2: duplicate key 'owner' (first at line 1)"),
    ("owner: a\n---\nowner: b\n", "ktmb.yaml:3: a profile is one YAML document, this file "
     "has 2"),
])
def test_every_mistake_is_one_line_with_file_line_and_key(text: str, message: str) -> None:
    """A profile mistake names the file, the line, the key and the problem."""
    with pytest.raises(InventoryError) as info:
        read_profile("ktmb.yaml", text, LIMITS)
    assert message == str(info.value)


@pytest.mark.parametrize(("value", "days"), [("90d", 90), ("12w", 84), ("13m", 390),
                                             ("1y", 365), ("none", 0), (" 2Y ", 730)])
def test_retention_durations(value: str, days: int) -> None:
    """Retention answers are days, weeks, months or years (or none)."""
    assert days == retention_days(value)


def test_notes_front_matter_answers_and_other_keys_are_left_alone() -> None:
    """Front-matter keys of the profile are read at their file line; a title is ignored."""
    text = "---\ntitle: Payments\nanswers:\n  audit_logging: disabled\n---\n# Notes\n"
    loaded = profile_from_notes("ARCHITECTURE.md", text, LIMITS)
    assert loaded is not None
    assert Toggle.DISABLED == loaded.profile.answers.audit_logging
    assert "ARCHITECTURE.md:4" == str(loaded.where("answers.audit_logging"))
    assert profile_from_notes("n.md", "# Notes\n\n---\nanswers: {}\n---\n", LIMITS) is None
    assert profile_from_notes("n.md", "---\ntitle: x\n---\n", LIMITS) is None


def test_notes_front_matter_mistakes_point_at_the_notes_line() -> None:
    """A wrong answer in front matter is refused at its line in the notes file."""
    with pytest.raises(InventoryError) as info:
        profile_from_notes("ARCHITECTURE.md", "---\nanswers:\n  backup: weekly\n---\n", LIMITS)
    assert ("ARCHITECTURE.md:3: answers.backup: must be one of enabled, disabled, got "
            "'weekly'") == str(info.value)


def test_two_places_that_disagree_are_refused() -> None:
    """The profile and the notes may say the same thing, never two things."""
    profile = read_profile("ktmb.yaml", "answers:\n  audit_logging: enabled\n", LIMITS)
    same = profile_from_notes("N.md", "---\nanswers:\n  audit_logging: enabled\n"
                              "  backup: enabled\n---\n", LIMITS)
    assert same is not None
    merged = merge_profiles([profile, same])
    assert merged is not None
    assert ("ktmb.yaml:2", "N.md:4") == (str(merged.where("answers.audit_logging")),
                                         str(merged.where("answers.backup")))
    other = profile_from_notes("N.md", "---\nanswers:\n  audit_logging: disabled\n---\n",
                               LIMITS)
    assert other is not None
    with pytest.raises(InventoryError) as info:
        merge_profiles([profile, other])
    assert ("N.md:3: answers.audit_logging: 'disabled' here but 'enabled' in ktmb.yaml:2; "
            "say it in one place") == str(info.value)


# ---- discovery -----------------------------------------------------------------------------
@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a private home and the default limits."""
    return Settings(home=tmp_path / "home", redaction_key="test-key")


def test_a_profile_in_the_manifest_directory_is_the_profile(tmp_path: Path,
                                                           settings: Settings) -> None:
    """``ktmb.yaml`` among the manifests is read as the profile, not skipped as a manifest."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "web.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    (tmp_path / "app" / "ktmb.yaml").write_text("owner: team-shop\n", encoding="utf-8")
    inputs = load_inputs([tmp_path / "app"], settings=settings, base=tmp_path)
    assert inputs.profile is not None
    assert ("team-shop", [], ["app/ktmb.yaml"]) == (
        inputs.profile.profile.owner, inputs.warnings,
        [f.path for f in inputs.files if f.role == "profile"])


def test_a_profile_beside_a_manifest_file_is_found(tmp_path: Path, settings: Settings) -> None:
    """A manifest file named on the command line brings the profile of its directory."""
    (tmp_path / "web.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    (tmp_path / "ktmb.yml").write_text("owner: team-shop\n", encoding="utf-8")
    inputs = load_inputs([tmp_path / "web.yaml"], settings=settings)
    assert inputs.profile is not None and "team-shop" == inputs.profile.profile.owner


def test_two_different_profiles_are_refused_unless_one_is_named(tmp_path: Path,
                                                                settings: Settings) -> None:
    """Two profiles found is ambiguous (one line); --profile chooses."""
    for name, owner in (("a", "team-a"), ("b", "team-b")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "web.yaml").write_text(DEPLOYMENT.replace("web", name),
                                                  encoding="utf-8")
        (tmp_path / name / "ktmb.yaml").write_text(f"owner: {owner}\n", encoding="utf-8")
    with pytest.raises(InventoryError) as info:
        load_inputs([tmp_path / "a", tmp_path / "b"], settings=settings, base=tmp_path)
    assert ("a/ktmb.yaml, b/ktmb.yaml: 2 different profile files found; name the one to use "
            "with --profile") == str(info.value)
    chosen = load_inputs([tmp_path / "a", tmp_path / "b"], settings=settings, base=tmp_path,
                         profile=tmp_path / "b" / "ktmb.yaml")
    assert chosen.profile is not None and "team-b" == chosen.profile.profile.owner


def test_the_profile_survives_the_run_snapshot(tmp_path: Path, settings: Settings) -> None:
    """A resumed run reads the same profile and suppressions from its checkpointed inputs."""
    (tmp_path / "web.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    (tmp_path / "ktmb.yaml").write_text(FULL, encoding="utf-8")
    (tmp_path / "ktmb-suppressions.yaml").write_text(
        "- rule: controls.*\n  owner: a\n  reason: r\n  expires: 2099-01-01\n", encoding="utf-8")
    inputs = load_inputs([tmp_path], settings=settings, base=tmp_path)
    again = type(inputs).from_snapshot(json.loads(json.dumps(inputs.to_snapshot())))
    assert inputs.profile == again.profile
    assert inputs.suppressions == again.suppressions
    assert ["manifest", "profile", "suppressions"] == sorted(f.role for f in again.files)


def test_profile_text_values_are_redacted(tmp_path: Path, settings: Settings) -> None:
    """A credential written into a profile's free text never reaches the run."""
    (tmp_path / "web.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    (tmp_path / "ktmb.yaml").write_text(
        "owner: team (token = ghp_0123456789abcdefghijABCDEFGHIJklmnopqr)\n", encoding="utf-8")
    inputs = load_inputs([tmp_path], settings=settings)
    assert inputs.profile is not None
    owner = inputs.profile.profile.owner or ""
    assert "ghp_0123456789" not in owner and "redacted" in owner
