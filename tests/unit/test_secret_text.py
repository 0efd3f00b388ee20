"""Secrets in free text: plugins, headers, URLs, keyword near value, key shapes, prose."""

from __future__ import annotations

import base64
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from workflow.domain.redaction import MARKER_PREFIX, Redactor
from workflow.domain.secret_plugins import _PROVIDERS, looks_random
from workflow.domain.secret_text import find_secrets, may_hold_secret

REPO = Path(__file__).resolve().parents[2]
AWS_SECRET = "kNtaU4i5GpIpatEJc2vPjjeJeRvtQRxFAoCRIsBh"
AZURE_KEY = ("u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFRIBXuDL7Dx"
             "tpYlS==")
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvPemBodySample42\n-----END PRIVATE KEY-----\n"

#: One line per provider plugin that the plugin flags (class name -> (line, the secret)).
PLUGIN_SAMPLES = {
    "AWSKeyDetector": ("id AKIAQWERTYUIOP123456 here", "AKIAQWERTYUIOP123456"),
    "AzureStorageKeyDetector": (f"AccountName=a;AccountKey={AZURE_KEY};", AZURE_KEY),
    "DiscordBotTokenDetector": ("M" + "a1" * 12 + ".AbCdEf." + "Xy9" * 9, "M" + "a1" * 12),
    "GitHubTokenDetector": ("ghp_" + "Ab3" * 12, "ghp_" + "Ab3" * 12),
    "GitLabTokenDetector": ("gitlab glpat-mJdUbUOnV6ye9P3pFIEH", "glpat-mJdUbUOnV6ye9P3pFIEH"),
    "JwtTokenDetector": ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzYW1wbGUifQ.c2lnbmF0dXJl",
                         "eyJzdWIiOiJzYW1wbGUifQ"),
    "MailchimpDetector": ("0123456789abcdef0123456789abcdef-us12",
                          "0123456789abcdef0123456789abcdef"),
    "NpmDetector": ("//registry.npmjs.org/:_authToken=npm_" + "Qz7" * 12, "Qz7" * 12),
    "OpenAIDetector": ("sk-" + "Ab1" * 7 + "T3BlbkFJ" + "Cd2" * 7, "Ab1" * 7),
    "PrivateKeyDetector": (PEM, "MIIEvPemBodySample42"),
    "PypiTokenDetector": ("pypi-AgEIcHlwaS5vcmc" + "Xy7" * 24, "Xy7" * 24),
    "SendGridDetector": ("SG." + "Ab3" * 7 + "x." + "Cd4" * 14 + "y", "Cd4" * 14),
    "SlackDetector": ("xoxb-1234567890-S3rINYahugJR6AH0Pk", "S3rINYahugJR6AH0Pk"),
    "SquareOAuthDetector": ("sq0csp-" + "Ab3" * 14 + "x", "Ab3" * 14),
    "StripeDetector": ("rk_live_rqzQ8H7N05ofrXXzuw1EFszG", "rqzQ8H7N05ofrXXzuw1EFszG"),
    "TelegramBotTokenDetector": ("123456789:" + "Ab3" * 11 + "xy", "Ab3" * 11),
    "TwilioKeyDetector": ("SK645de20d1a256e1e827e1f887301bd1c", "645de20d1a256e1e827e1f887301"),
}


def scrub(text: str, *, prose: bool = False) -> str:
    """``text`` as a Redactor leaves it."""
    return Redactor(key=b"k").scrub_text(text, "/x", prose=prose)


def test_every_provider_plugin_has_a_sample() -> None:
    """The samples cover exactly the provider plugins in use."""
    assert {cls for _, cls, _ in _PROVIDERS} == set(PLUGIN_SAMPLES)


@pytest.mark.parametrize(("module", "cls", "needle"), _PROVIDERS, ids=[p[1] for p in _PROVIDERS])
def test_each_plugin_flags_its_sample_and_the_needles_let_it_through(module: str, cls: str,
                                                                     needle: str) -> None:
    """The plugin flags its sample, the cheap check lets it through, nothing of it is left."""
    line, secret = PLUGIN_SAMPLES[cls]
    plugin = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), cls)()
    assert [] != list(plugin.analyze_string(line))
    assert may_hold_secret(line)
    assert secret not in scrub(line)


@pytest.mark.parametrize(("text", "secret"), [
    ("curl -H 'Authorization: Bearer Bearer-Tok-7' https://x", "Bearer-Tok-7"),
    ("wget --header='Authorization: token Gh-Tok-8' http://x", "Gh-Tok-8"),
    ('proxy_set_header Authorization "Basic QmFzaWM6U2FtcGxlOQ==";', "QmFzaWM6U2FtcGxlOQ=="),
    ("https://svc:Url-Pw-9@host:8443/api", "Url-Pw-9"),
    ("redis://:Redis-Pw-10@cache:6379/0", "Redis-Pw-10"),
    ("postgres://app:P@ss!word-11@db/app", "P@ss!word-11"),
    ("https://hooks.internal/notify?token=Query-Tok-11&channel=ops", "Query-Tok-11"),
    ("https://a.blob.core.windows.net/c?sv=2022-11-02&sig=SasSig12AbcDef", "SasSig12AbcDef"),
    ("token: Token-Colon-20", "Token-Colon-20"),
    ("db_password = Ini-Pw-21", "Ini-Pw-21"),
    ("admin_password = letmein", "letmein"),
    ('{"client_secret": "Json-Secret-22", "user": "x"}', "Json-Secret-22"),
    ("X-Api-Key: Header-Key-23", "Header-Key-23"),
    ("sh -c 'mysql -uroot -pShell-Mysql-24 db'", "Shell-Mysql-24"),
    ("maps AIzaSyD-Sample0123456789abcdefghijKLMNO", "AIzaSyD-Sample0123456789abcdefghijKLMNO"),
    ("gh github_pat_11ABCDEFG0123456789_abcdefGHIJ", "github_pat_11ABCDEFG0123456789_abcdefGHIJ"),
    (f"upload with {AWS_SECRET} tonight", AWS_SECRET),
    (f"tier2 {AZURE_KEY}", AZURE_KEY),
    (PEM, "MIIEvPemBodySample42"),
    ('{"private_key": "' + PEM.replace("\n", "\\n") + '"}', "MIIEvPemBodySample42"),
    (base64.b64encode(('{\n "type": "service_account",\n "private_key": "'
                       + PEM.replace("\n", "\\n") + '"\n}').encode()).decode(), "ewogInR5cGUi"),
    (base64.b64encode(PEM.encode() * 2).decode(), "LS0tLS1CRUdJTiBQUklWQVRF"),
])
def test_secrets_in_manifest_text(text: str, secret: str) -> None:
    """Each form is found in a manifest value and leaves no trace of the secret."""
    out = scrub(text)
    assert secret not in out
    assert MARKER_PREFIX in out


@pytest.mark.parametrize(("text", "secret"), [
    ("The ledger DB password is Prose-Pw-24.", "Prose-Pw-24"),
    ("The password for the reporting replica is `quoted-prose`.", "quoted-prose"),
    ("- the API token: Prose-Tok-26", "Prose-Tok-26"),
    ("Emergency access uses 5zG4naKZrNOUwcLN1rbsOzzPTAeUzwTT when Vault is down.",
     "5zG4naKZrNOUwcLN1rbsOzzPTAeUzwTT"),
    ("The signing key is 9f1c2b7e4d8a0f3c6b5e2d9a7c4f1e0b3d6a8c5f.",
     "9f1c2b7e4d8a0f3c6b5e2d9a7c4f1e0b3d6a8c5f"),
    ('Use "Zq8vKp2mWx7nRt4bLs9dHy6c" as the fallback.', "Zq8vKp2mWx7nRt4bLs9dHy6c"),
    ("mysql -uadmin -pNotes-Mysql-27 -h db", "Notes-Mysql-27"),
])
def test_secrets_in_prose(text: str, secret: str) -> None:
    """Notes: a credential word near a password-like value, and random tokens, are found."""
    assert secret not in scrub(text, prose=True)


@pytest.mark.parametrize("text", [
    "30s", "8080", "true", "/etc/secret/pw", "$(DB_PASSWORD)", "https://example.com/health",
    "registry.example.com/app@sha256:9c4b7a1e5d3f2b8a6c0e4d2f1a3b5c7d9e0f2a4b6c8d0e2f4a6b8c0d"
    "2e4f6a8b",
    "--timeout=30s", "token_ttl: 3600", "secretName: my-tls", "password_file: /run/secrets/db",
    "auth-type: basic", "--authorization-mode=Node,RBAC", "mkdir -p /data && sleep 30",
    "docker run -u 1000:1000 app", "curl -sf http://svc:8080/health", "secret: true",
    "Bearer authentication is used", "the token is rotated weekly", "password: ${DB_PASSWORD}",
    "secretKeyRef: {name: db, key: password}", "automountServiceAccountToken: false",
    "SpringBootApplicationConfiguration2Props value", "uid 550e8400-e29b-41d4-a716-446655440000",
    "checksum 5f2b8c0d9e4a7f1b3c6d8e0f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b",
    'fish -c "curl --header \\"Authorization: Bearer \\"(cat /var/run/token) https://k8s"',
])
def test_manifest_values_kept(text: str) -> None:
    """Durations, numbers, booleans, paths, references, plain URLs and words stay as written."""
    assert text == scrub(text)


@pytest.mark.parametrize("text", [
    "The password is stored in Vault and rotated every 30 days.",
    "Tokens expire after 15m; the secret is never logged.",
    "The image is pinned to sha256:4a1c9e7b2d5f8a0c3e6b9d2f5a8c1e4b7d0a3c6f9b2e5d8a1c4f7b0e3d6a"
    "9c2f.",
    "See https://example.com/docs and /etc/ssl/certs.",
    "Data classification: PCI",
    "Secrets: stored in AWS Secrets Manager, fetched by the External Secrets Operator.",
    "The API server runs with --authorization-mode=Node,RBAC and --secure-port=6443.",
    "Basic authentication is disabled; bearer tokens come from the OIDC provider.",
    "Set the ThisIsNotASecretJustAnIdentifierName flag.",
])
def test_prose_kept(text: str) -> None:
    """Ordinary sentences about credentials stay readable."""
    assert text == scrub(text, prose=True)


def test_markers_are_never_redacted_again() -> None:
    """A scrubbed text scrubbed again is unchanged (markers hold no secret)."""
    once = scrub("token: Token-Colon-20 and https://svc:Url-Pw-9@host/")
    assert once == scrub(once)


def test_hits_are_merged_and_ordered() -> None:
    """Two detectors finding the same value give one span."""
    text = "postgres://app:Both-Pw-1@db/app"
    hits = find_secrets(text)
    assert ["Both-Pw-1"] == [text[h.start:h.end] for h in hits]


@pytest.mark.parametrize(("token", "expected"), [
    (AWS_SECRET, True), ("yIRPK2iyElwmrYEE8mBvo8fg2TrrBwyMZDrXqDjr", True),
    ("5zG4naKZrNOUwcLN1rbsOzzPTAeUzwTT", True), ("SpringBootApplicationConfiguration2Props", False),
    ("registryExampleCom1ImageName2Version3", False),
    ("GoogleCloudPlatformServiceAccount2024Key", False),
    ("MicrosoftAzureStorageAccountKeyV2Example", False),
    ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1", False),
    ("abcdefghijklmnopqrstuvwxyzabcdefghijklmn", False),
])
def test_random_tokens_are_told_from_words(token: str, expected: bool) -> None:
    """Random keys read as random; identifiers, repeats and lowercase runs do not."""
    assert expected == looks_random(token)


def test_values_without_a_needle_never_load_detect_secrets(tmp_path: Path) -> None:
    """Loading manifests with nothing secret-looking leaves detect-secrets unimported."""
    manifest = tmp_path / "app.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {app: web}}\n"
        "spec:\n  template:\n    spec:\n      containers:\n      - name: web\n"
        "        image: nginx:1.27\n        args: [--port, '8080']\n"
        "        env: [{name: LOG_LEVEL, value: debug}]\n", encoding="utf-8")
    code = ("import sys; from pathlib import Path; "
            "from workflow.domain.inputs import load_inputs; "
            "from workflow.domain.settings import Settings; "
            f"load_inputs([{str(manifest)!r}], settings=Settings(home=Path({str(tmp_path)!r}), "
            "redaction_key='k')); print('detect_secrets' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=True)
    assert "False" == done.stdout.strip()


@pytest.mark.parametrize(("line", "secret"), [
    ("api_key: Colon-Val-1", "Colon-Val-1"),
    ("db_pass = Equal-Val-2", "Equal-Val-2"),
    ('if ("Cmp-Val-3" == my_password) {', "Cmp-Val-3"),
    ('private_key "Semi-Val-4";', "Semi-Val-4"),
])
def test_keyword_plugin_forms_pass_the_cheap_check(line: str, secret: str) -> None:
    """Each form of the keyword plugin's patterns passes the shape check and is redacted."""
    from detect_secrets.plugins.keyword import REGEX_BY_FILETYPE, KeywordDetector
    from detect_secrets.util.filetype import FileType

    from workflow.domain.secret_plugins import KEYWORD_SHAPE

    found = KeywordDetector().analyze_string(line, REGEX_BY_FILETYPE[FileType.YAML])
    assert [secret] == list(found)
    assert KEYWORD_SHAPE.search(line)
    assert secret not in scrub(line)
