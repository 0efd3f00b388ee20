"""Secret redaction at load time: planted values never survive, look-alikes are kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workflow.domain.credential_names import is_credential_name
from workflow.domain.inputs import LoadedInputs, load_inputs
from workflow.domain.redaction import (
    MARKER_PREFIX,
    Redactor,
    load_or_create_key,
)
from workflow.domain.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "redaction"
PLANTED_FILE = FIXTURES / "planted.yaml"
NOTES_FILE = FIXTURES / "NOTES.md"

#: Every secret value planted in tests/fixtures/redaction (and where it was planted).
PLANTED = {
    "UGxhbnRlZC1CYXNlNjQtUHc=": "Secret data",
    "Applied-Planted-Tok5": "Secret stringData and last-applied annotation",
    "String-Planted-Data6": "Secret stringData",
    "Arg-Planted-Pw1": "--password=",
    "Arg-Planted-Tok2": "--token VALUE",
    "Env-Planted-Pw7": "env DB_PASSWORD",
    "Env-Planted-Tok8": "env API_TOKEN",
    "AKIAPLANTEDKEY000001": "AWS key by value",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlLXBsYW50ZWQ": "JWT by value",
    "MIIEpPlantedPrivateKeyBody9": "private key block",
    "Url-Planted-Pass10": "URL credentials",
    "Cm-Planted-Pw3": "ConfigMap key db_password",
    "Cm-Planted-Key11": "ConfigMap key signing_key",
    "Cm-Planted-Props12": "password= inside a ConfigMap file",
    "Notes-Planted-Pw4": "architecture notes",
    "AKIANOTESPLANTED0002": "architecture notes, AWS key",
    "Notes-Url-Pass13": "architecture notes, URL credentials",
}


def _load(settings: Settings) -> LoadedInputs:
    return load_inputs([PLANTED_FILE], settings=settings, architecture=[NOTES_FILE])


def _fragments(value: str) -> list[str]:
    """The value and its distinctive pieces (a partial leak is a leak)."""
    parts = [value]
    if value.startswith("eyJ"):
        parts.extend(value.split("."))
    return parts


@pytest.fixture
def loaded(offline_settings: Settings) -> LoadedInputs:
    """The planted fixture, loaded."""
    return _load(offline_settings)


@pytest.mark.parametrize("value", sorted(PLANTED))
def test_planted_value_never_appears_in_the_snapshot(loaded: LoadedInputs, value: str) -> None:
    """No planted value (or a piece of it) is in the JSON snapshot a run keeps."""
    text = json.dumps(loaded.to_snapshot())
    leaked = [part for part in _fragments(value) if part in text]
    assert [] == leaked


def test_planted_values_never_appear_in_the_inventory(loaded: LoadedInputs) -> None:
    """The inventory model dump holds no planted value either."""
    text = loaded.inventory.model_dump_json()
    assert [] == [v for v in PLANTED if v in text]


def test_secret_data_keeps_presence_and_fingerprint(loaded: LoadedInputs) -> None:
    """A Secret's keys stay, each value replaced by a fingerprint marker."""
    secret = loaded.inventory.get("Secret/vault/app-secret")
    assert secret is not None
    assert ["password"] == list(secret.raw["data"])
    assert ["api", "token"] == sorted(secret.raw["stringData"])
    assert all(v.startswith(MARKER_PREFIX) for v in secret.raw["stringData"].values())


def test_secret_values_record_where_and_why(loaded: LoadedInputs) -> None:
    """Each redaction is recorded with its resource, pointer, location and reason."""
    found = {(s.resource, s.path): (s.location, s.reason) for s in loaded.secret_values}
    env = "/spec/template/spec/containers/0/env"
    args = "/spec/template/spec/containers/0/args"
    expected = {
        ("Secret/vault/app-secret", "/data/password"): ("secret", "Secret value"),
        ("Secret/vault/app-secret", "/stringData/token"): ("secret", "Secret value"),
        ("Secret/vault/app-secret", "/stringData/api"): ("secret", "Secret value"),
        ("Secret/vault/app-secret",
         "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration"): (
            "secret", "applied Secret"),
        ("Deployment/vault/worker", f"{env}/0/value"): ("env", "env var 'DB_PASSWORD'"),
        ("Deployment/vault/worker", f"{env}/1/value"): ("env", "env var 'API_TOKEN'"),
        ("Deployment/vault/worker", f"{env}/2/value"): ("env", "AWS Access Key"),
        ("Deployment/vault/worker", f"{env}/3/value"): ("env", "JSON Web Token"),
        ("Deployment/vault/worker", f"{env}/4/value"): ("env", "private key"),
        ("Deployment/vault/worker", f"{env}/5/value"): ("env", "credentials in a URL"),
        ("Deployment/vault/worker", f"{args}/0"): ("args", "command-line flag --password"),
        ("Deployment/vault/worker", f"{args}/2"): ("args", "command-line flag --token"),
        ("ConfigMap/vault/worker-config", "/data/db_password"): (
            "configmap", "ConfigMap key 'db_password'"),
        ("ConfigMap/vault/worker-config", "/data/signing_key"): (
            "configmap", "ConfigMap key 'signing_key'"),
        ("ConfigMap/vault/worker-config", "/data/app.properties"): (
            "configmap", "value of password"),
    }
    assert expected == found


def test_args_keep_the_flag(loaded: LoadedInputs) -> None:
    """``--password=x`` keeps its flag; ``--token x`` keeps the flag and blanks the value."""
    worker = loaded.inventory.get("Deployment/vault/worker")
    assert worker is not None
    args = worker.get("/spec/template/spec/containers/0/args")
    assert args[0].startswith("--password=" + MARKER_PREFIX)
    assert "--token" == args[1]
    assert args[2].startswith(MARKER_PREFIX)


def test_private_key_block_is_blanked_entirely(offline_settings: Settings) -> None:
    """Nothing of a private key block remains but the marker."""
    redactor = Redactor(key=b"k")
    text = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpBodyOfTheKey\n-----END RSA PRIVATE KEY-----\n"
    out = redactor.scrub_text(text, "/x")
    assert "BEGIN" not in out
    assert "MIIEpBodyOfTheKey" not in out
    assert out.startswith(MARKER_PREFIX)


def test_notes_are_scrubbed_but_stay_readable(loaded: LoadedInputs) -> None:
    """Notes keep their prose; only the secret substrings are replaced."""
    text = loaded.notes[0].text
    assert "The bastion admin password: " + MARKER_PREFIX in text
    assert "Logs go to /var/log/app; the key file is at /etc/key." in text


@pytest.mark.parametrize(("pointer", "expected"), [
    ("/spec/template/spec/containers/0/args/3", "--secret-name=foo"),
    ("/spec/template/spec/containers/0/args/4", "--log-level=debug"),
    ("/spec/template/spec/containers/0/env/6/value", "debug"),
    ("/spec/template/spec/containers/0/env/7/value", "/etc/key"),
    ("/spec/template/spec/containers/0/env/8/value", "/etc/tls/tls.key"),
])
def test_false_positive_guards_on_the_workload(loaded: LoadedInputs, pointer: str,
                                              expected: str) -> None:
    """Names and paths that only look like credentials are kept verbatim."""
    worker = loaded.inventory.get("Deployment/vault/worker")
    assert worker is not None
    assert expected == worker.get(pointer)


def test_false_positive_guards_on_the_configmap(loaded: LoadedInputs) -> None:
    """``LOG_LEVEL`` in a ConfigMap is not a credential; non-secret lines of a file stay."""
    config = loaded.inventory.get("ConfigMap/vault/worker-config")
    assert config is not None
    assert "warn" == config.raw["data"]["LOG_LEVEL"]
    assert config.raw["data"]["app.properties"].startswith("greeting=hello\npassword=")


@pytest.mark.parametrize(("name", "expected"), [
    ("DB_PASSWORD", True), ("API_TOKEN", True), ("CLIENT_SECRET", True), ("AWS_ACCESS_KEY", True),
    ("signing_key", True), ("LOG_LEVEL", False), ("KEY_FILE", False), ("secret-name", False),
    ("TOKEN_PATH", False), ("PASSWORD_FILE", False), ("keys", False), ("MONKEY", False),
])
def test_credential_names(name: str, expected: bool) -> None:
    """Names are classified as credentials or not."""
    assert expected == is_credential_name(name)


def test_fingerprints_are_stable_with_the_same_key(tmp_path: Path) -> None:
    """The same input and key give the same fingerprints."""
    first = _load(Settings(home=tmp_path / "a", redaction_key="same-key"))
    second = _load(Settings(home=tmp_path / "b", redaction_key="same-key"))
    assert [s.fingerprint for s in first.secret_values] == [
        s.fingerprint for s in second.secret_values]


def test_fingerprints_differ_with_another_key(tmp_path: Path) -> None:
    """Another key gives other fingerprints (guesses cannot be tested without the key)."""
    first = _load(Settings(home=tmp_path / "a", redaction_key="key-one"))
    second = _load(Settings(home=tmp_path / "b", redaction_key="key-two"))
    pairs = zip(first.secret_values, second.secret_values, strict=True)
    assert [] == [a.path for a, b in pairs if a.fingerprint == b.fingerprint]


def test_fingerprint_is_not_the_plain_hash(offline_settings: Settings) -> None:
    """A fingerprint is keyed: it is not derivable from the value alone."""
    import hashlib

    redactor = Redactor(key=b"k")
    value = "Env-Planted-Pw7"
    assert hashlib.sha256(value.encode()).hexdigest()[:16] not in redactor.fingerprint(value)


def test_key_file_is_created_once_and_private(tmp_path: Path) -> None:
    """Without KTMB_REDACTION_KEY a key file is created (mode 0600) and then reused."""
    first = load_or_create_key(tmp_path / "home", None)
    second = load_or_create_key(tmp_path / "home", None)
    assert first == second
    assert 0o600 == (tmp_path / "home" / "redaction.key").stat().st_mode & 0o777


def test_configured_key_wins(tmp_path: Path) -> None:
    """KTMB_REDACTION_KEY is used as given and no key file is written."""
    assert b"configured" == load_or_create_key(tmp_path, "configured")
    assert not (tmp_path / "redaction.key").exists()


def test_unquoted_numeric_credentials_are_redacted(offline_settings: Settings,
                                                   tmp_path: Path) -> None:
    """A numeric password in env or a ConfigMap (unquoted YAML int) is redacted too."""
    path = tmp_path / "numeric.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "  - name: c\n    image: x\n    env:\n    - {name: DB_PASSWORD, value: 98765432101}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"
        "data:\n  PIN_PASSWORD: 4242424242\n", encoding="utf-8")
    text = json.dumps(load_inputs([path], settings=offline_settings).to_snapshot())
    assert [] == [v for v in ("98765432101", "4242424242") if v in text]





#: One sample per value pattern (reason -> text in which the pattern must find a secret).
PATTERN_SAMPLES = {
    "private key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpSample\n-----END RSA PRIVATE KEY-----",
    "AWS access key id": "key ASIASAMPLEKEY0000003 here",
    "AWS secret access key": "AWS_SECRET_ACCESS_KEY=" + "a" * 40,
    "GitHub token": "ghp_" + "b" * 36,
    "Slack token": "xoxb-1234567890-sample",
    "Google API key": "AIza" + "c" * 35,
    "Stripe key": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "JSON web token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzYW1wbGUifQ.c2lnbmF0dXJlLXNhbXBsZQ",
    "credentials in a URL": "postgres://app:S3cretSample@db:5432/app",
    "password assignment": "connect with Passwd = SampleValue9",
    "prefixed password assignment": "REDIS_PASSWORD=SampleValue9",
    "bearer token": "Authorization: Bearer q8Zr4Kp2Wm7Xv5Ty3Ln9Hd",
}


def test_every_value_pattern_sample_is_redacted() -> None:
    """Each kind of secret written in a value is replaced by a marker."""
    for reason, sample in PATTERN_SAMPLES.items():
        scrubbed = Redactor(key=b"k").scrub_text(sample, "/x")
        assert MARKER_PREFIX in scrubbed, reason


def test_text_without_a_trigger_is_returned_as_is() -> None:
    """Ordinary values skip the pattern scan and keep their exact text."""
    redactor = Redactor(key=b"k")
    text = "http://svc-00001.team-000:8080/health?mode=full"
    assert text == redactor.scrub_text(text, "/x")
    assert [] == redactor.found


# ---- the secrets corpus (tests/fixtures/secrets) ---------------------------------------------
CORPUS = FIXTURES.parent / "secrets"
CORPUS_PLANTED: dict[str, str] = json.loads((CORPUS / "planted.json").read_text(encoding="utf-8"))


@pytest.fixture
def corpus(offline_settings: Settings) -> LoadedInputs:
    """The secrets corpus, loaded with its notes."""
    return load_inputs([CORPUS / "manifests"], settings=offline_settings,
                       architecture=[CORPUS / "NOTES.md"])


def test_corpus_values_never_appear_in_the_snapshot(corpus: LoadedInputs) -> None:
    """No planted value of the corpus is left in the snapshot a run keeps."""
    text = json.dumps(corpus.to_snapshot())
    assert {} == {value: case for value, case in CORPUS_PLANTED.items() if value in text}


def test_annotations_and_labels_by_key_name(corpus: LoadedInputs) -> None:
    """Credential-named annotations and labels are redacted; the others are kept as written."""
    ledger = corpus.inventory.get("Deployment/vault/ledger")
    ingress = corpus.inventory.get("Ingress/vault/ledger")
    assert ledger is not None and ingress is not None
    redacted = {key for key, value in {**ledger.annotations, **ledger.labels}.items()
                if value.startswith(MARKER_PREFIX)}
    assert {"example.com/db-password", "app.example.com/access-token"} == redacted
    kept = {key: ledger.annotations[key] for key in (
        "example.com/owner", "example.com/token-ttl", "example.com/password-rotation",
        "vault.hashicorp.com/agent-inject-token")}
    assert {"example.com/owner": "team-ledger", "example.com/token-ttl": "30m",
            "example.com/password-rotation": "enabled",
            "vault.hashicorp.com/agent-inject-token": "true"} == kept
    assert ledger.annotations["checksum/config"].startswith("5f2b8c0d9e4a")
    assert {"nginx.ingress.kubernetes.io/auth-type": "basic",
            "nginx.ingress.kubernetes.io/auth-secret": "ledger-basic-auth"}.items() \
        <= ingress.annotations.items()
    pod = ledger.get("/spec/template/metadata/annotations")
    assert pod["vault.example.com/api-token"].startswith(MARKER_PREFIX)
    assert "https://wiki.example.com/ledger" == pod["example.com/docs"]


def test_locations_of_annotation_and_label_secrets(corpus: LoadedInputs) -> None:
    """Secrets found in annotations and labels are recorded there (not as env or args)."""
    found = {s.path: s.location for s in corpus.secret_values
             if s.resource == "Deployment/vault/ledger"}
    assert {"/metadata/annotations/example.com~1db-password": "annotation",
            "/metadata/annotations/example.com~1healthcheck": "annotation",
            "/metadata/labels/app.example.com~1access-token": "label",
            "/spec/template/metadata/annotations/vault.example.com~1api-token": "annotation",
            } == found


def test_command_lines_keep_their_settings(corpus: LoadedInputs) -> None:
    """Ports, durations, booleans, file paths, $(VAR) and plain URLs in args stay."""
    migrator = corpus.inventory.get("Deployment/vault/migrator")
    assert migrator is not None
    args = migrator.get("/spec/template/spec/containers/0/args")
    assert ["--port", "8080", "--timeout=30s", "--token-ttl=5m", "--enable-token-auth=true",
            "--password-file=/etc/secret/pw", "--db-password=$(DB_PASSWORD)",
            "--authorization-mode=Node,RBAC", "--health-url=https://example.com/health"] \
        == args[5:]
    script = migrator.get("/spec/template/spec/containers/0/command/2")
    assert "mkdir -p /data/tmp && sleep 30" in script
    assert "mysql -uroot -p" + MARKER_PREFIX in script


def test_applied_configuration_of_a_workload_is_redacted_as_the_object(
        offline_settings: Settings, tmp_path: Path) -> None:
    """kubectl's last-applied annotation of a Deployment is redacted like the Deployment."""
    applied = {"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "w", "annotations": {"example.com/db-password": "Ap-Pw-1"}},
               "spec": {"template": {"spec": {"containers": [{
                   "name": "c", "image": "x", "args": ["--token", "Ap-Tok-2"],
                   "env": [{"name": "DB_PASSWORD", "value": "Ap-Env-3"}]}]}}}}
    doc = {**applied, "metadata": {"name": "w", "annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied)}}}
    path = tmp_path / "w.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    loaded = load_inputs([path], settings=offline_settings)
    text = json.dumps(loaded.to_snapshot())
    assert [] == [v for v in ("Ap-Pw-1", "Ap-Tok-2", "Ap-Env-3") if v in text]
    worker = loaded.inventory.get("Deployment/default/w")
    assert worker is not None
    kept = json.loads(worker.annotations["kubectl.kubernetes.io/last-applied-configuration"])
    assert "c" == kept["spec"]["template"]["spec"]["containers"][0]["name"]
    assert {"annotation"} == {s.location for s in loaded.secret_values
                              if "last-applied" in s.path}


def test_only_the_word_that_holds_a_credential_is_changed() -> None:
    """A value that also ends another word is redacted only where the flag put it."""
    pod: dict[str, Any] = {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{
        "name": "c", "command": ["mysql"],
        "args": ["--password", "admin", "--role=admin", "-pAdmin-Pw-9", "--user=admin"]}]}}
    Redactor(key=b"k").redact_object(pod)
    args = pod["spec"]["containers"][0]["args"]
    assert ["--password", "--role=admin", "--user=admin"] == [args[0], args[2], args[4]]
    assert args[1].startswith(MARKER_PREFIX)
    assert args[3].startswith("-p" + MARKER_PREFIX)


@pytest.mark.parametrize(("value", "shape"), [
    ("-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----", "private key"),
    ("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "certificate"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "json web token"),
    ("postgres://app:pw@db:5432/app", "url with credentials"),
    ("https://login.example.com/oauth2", "url"),
    ('{"auths": {"registry.example.com": {}}}', "registry auth"),
    ("changeme", "default"), ("Admin", "default"), ("3600", "number"), ("15m", "duration"),
    ("1h30m", "duration"), ("PT15M", "duration"), ("true", "boolean"),
    ("q8Zr4Kp2Wm7Xv5Ty3Ln9Hd6Bs1Fc0Ge", "token"), ("Zr8q2LkM9vXw", "password"),
])
def test_value_shape(value: str, shape: str) -> None:
    """The shape recorded for a redacted value says what it looks like, never what it is."""
    from workflow.domain.value_shapes import value_shape

    assert shape == value_shape(value)


def test_secret_data_shape_is_read_through_base64() -> None:
    """A base64 PEM private key in Secret data is recorded as a private key."""
    import base64

    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n"
    redactor = Redactor(key=b"k")
    redactor.redact_object({"kind": "Secret", "data": {
        "tls.key": base64.b64encode(pem.encode()).decode()}})
    assert ["private key"] == [f.shape for f in redactor.found]


@pytest.mark.parametrize(("name", "value", "redacted"), [
    ("ACCESS_TOKEN_LIFETIME", "3600", False), ("SESSION_TOKEN_MAX_AGE", "15m", False),
    ("AUTH_REQUIRED", "true", False), ("AUTH_SERVER", "https://login.example.com", False),
    ("DB_PASSWORD", "3600", True), ("API_TOKEN", "q8Zr4Kp2Wm7Xv5Ty3Ln9Hd", True),
    ("AUTH_SERVER", "https://user:pw@login.example.com", True),
])
def test_value_shapes_that_are_not_secrets_stay(name: str, value: str, redacted: bool) -> None:
    """Numbers (except under password names), durations, booleans, plain URLs are not secrets."""
    redactor = Redactor(key=b"k")
    obj = {"kind": "Pod", "spec": {"containers": [{"env": [{"name": name, "value": value}]}]}}
    redactor.redact_object(obj)
    kept = obj["spec"]["containers"][0]["env"][0]["value"]  # type: ignore[index]
    assert redacted == (kept != value)


def test_assignments_of_numbers_to_token_names_stay_in_free_text() -> None:
    """TOKEN_TTL-style assignments inside a file keep their number; passwords do not."""
    redactor = Redactor(key=b"k")
    out = redactor.scrub_text("ACCESS_TOKEN=3600\nDB_PASSWORD=123456789\n", "/x")
    assert "ACCESS_TOKEN=3600" in out
    assert "123456789" not in out
