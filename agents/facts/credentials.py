"""What a committed credential is and which set it belongs to, from names, types and shapes.

Values are redacted at load time: what is known of each is its location, the name it was
written under, the reason it was taken for a secret and its shape (``private key``, ``token``,
``default``, ...; :func:`workflow.domain.value_shapes.value_shape`). From those, this module says
**what** a credential is (a token-signing key, a TLS key, a database superuser password, ...,
with the impact of losing it; docs/SEVERITY.md, principle 1) and **which set** it belongs to:
the credentials of one data store or service in one object (``DB_USER``, ``DB_PASSWORD`` and
``DB_ROOT_PASSWORD`` are the set ``DB``), so that one set is one finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from agents.facts.workloads import data_store
from workflow.domain.inventory import Inventory
from workflow.domain.redaction import MARKER_PREFIX
from workflow.domain.resources import Resource, SecretValue, Workload
from workflow.domain.scoring import Impact

__all__ = [
    "CredentialKind",
    "CredentialSet",
    "credential_name",
    "credential_set",
    "credential_sets",
    "kind_of",
    "worst",
]


@dataclass(frozen=True)
class CredentialKind:
    """What a credential is and the impact of losing it."""

    label: str
    impact: int


SIGNING_KEY = CredentialKind("token-signing key", Impact.CLUSTER)
CLOUD_KEY = CredentialKind("cloud access key", Impact.SYSTEM)
TLS_KEY = CredentialKind("TLS private key", Impact.SYSTEM)
SSH_KEY = CredentialKind("SSH private key", Impact.SYSTEM)
PRIVATE_KEY = CredentialKind("private key", Impact.SYSTEM)
REGISTRY = CredentialKind("registry credentials", Impact.SYSTEM)
DB_SUPERUSER = CredentialKind("database superuser password", Impact.SYSTEM)
DB_PASSWORD = CredentialKind("database password", Impact.SERVICE)
API_KEY = CredentialKind("API key or token", Impact.SERVICE)
PASSWORD = CredentialKind("password", Impact.SERVICE)
CERTIFICATE = CredentialKind("certificate (public)", Impact.HYGIENE)
#: Worst first: a set is what its worst credential is.
_ORDER = (SIGNING_KEY, CLOUD_KEY, TLS_KEY, SSH_KEY, PRIVATE_KEY, REGISTRY, DB_SUPERUSER,
          DB_PASSWORD, API_KEY, PASSWORD, CERTIFICATE)

_WORDS = re.compile(r"[A-Za-z0-9]+")
#: Name words that say what a credential is, not which set it belongs to.
_CREDENTIAL_WORDS = frozenset({
    "password", "passwd", "pwd", "pass", "secret", "token", "key", "keys", "user", "username",
    "login", "pw", "pin", "credential", "credentials", "cred", "creds", "auth", "api", "apikey",
    "access", "private", "file", "value", "root", "admin", "superuser", "initdb", "default",
    "replication", "app"})
_STORE_WORDS = frozenset({
    "db", "database", "postgres", "postgresql", "pg", "psql", "mysql", "maria", "mariadb",
    "mongo", "mongodb", "redis", "sql", "mssql", "datasource", "cassandra", "couchdb", "couch",
    "elastic", "elasticsearch", "es", "rabbit", "rabbitmq", "amqp", "kafka", "memcached",
    "neo4j", "influx", "influxdb", "clickhouse", "cockroach", "dsn", "jdbc", "etcd", "minio",
    "valkey", "opensearch", "nats"})
_SUPERUSER_WORDS = frozenset({"root", "admin", "superuser", "super", "master", "sa"})
_SUPERUSERS = frozenset({"root", "postgres", "admin", "sa", "sys", "system", "superuser"})
#: Data-store environment variables that set the store's superuser password.
_SUPERUSER_VARS = frozenset({
    "POSTGRES_PASSWORD", "POSTGRESQL_POSTGRES_PASSWORD", "MYSQL_ROOT_PASSWORD",
    "MARIADB_ROOT_PASSWORD", "MONGO_INITDB_ROOT_PASSWORD", "MONGODB_ROOT_PASSWORD",
    "MSSQL_SA_PASSWORD", "SA_PASSWORD", "REDIS_PASSWORD", "ELASTIC_PASSWORD",
    "RABBITMQ_DEFAULT_PASS", "MINIO_ROOT_PASSWORD", "NEO4J_AUTH", "INFLUXDB_ADMIN_PASSWORD"})
_SIGNING = re.compile(r"(?i)jwt|jws|jwk|sign|oidc|saml|id[-_.]?token|issuer|session[-_.]?(secret"
                      r"|key)|secret[-_.]?key[-_.]?base|cookie[-_.]?(secret|key)|hmac")
_CLOUD = re.compile(r"(?i)aws|gcp|google|gcloud|azure|service[-_.]?account|credentials\.json"
                    r"|key\.json")
_TLS = re.compile(r"(?i)tls|ssl|https|server|cert")
_SSH = re.compile(r"(?i)ssh|id_rsa|id_ed25519|id_ecdsa|deploy[-_.]?key")
_API = re.compile(r"(?i)api|access[-_.]?key|client[-_.]?secret|webhook|slack|stripe|github"
                  r"|gitlab|sendgrid|twilio|license|bearer")
#: Secret types (not secrets themselves).
_SSH_AUTH, _TLS_TYPE = "kubernetes.io/ssh-auth", "kubernetes.io/tls"
_REGISTRY_TYPES = frozenset({"kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg"})
_VALUE_REASONS = {"AWS access key id": CLOUD_KEY, "AWS secret access key": CLOUD_KEY,
                  "Google API key": API_KEY, "GitHub token": API_KEY, "Slack token": API_KEY,
                  "Stripe key": API_KEY}


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(name)]


def credential_set(name: str) -> str:
    """The set a credential name belongs to: its data store or service, in upper case.

    A store named first wins (``MYSQL_ROOT_PASSWORD`` and ``MYSQL_PASSWORD`` are ``MYSQL``);
    otherwise the name without its credential words (``GF_SECURITY_ADMIN_PASSWORD`` is
    ``GF_SECURITY``); a name of credential words only is its own set.
    """
    words = _words(name)
    if words and words[0] in _STORE_WORDS:
        return words[0].upper()
    kept = [w for w in words if w not in _CREDENTIAL_WORDS]
    return "_".join(kept).upper() if kept else "_".join(words).upper() or name


def kind_of(name: str, shape: str, *, secret_type: str = "", reason: str = "",
            store: bool = False, superuser: bool = False) -> CredentialKind:
    """What a credential is, from its name, shape, Secret type and what consumes it."""
    if shape == "certificate" or (name.endswith((".crt", ".pem.pub", ".pub"))
                                  and shape != "private key"):
        return CERTIFICATE
    if reason in _VALUE_REASONS:
        return _VALUE_REASONS[reason]
    if secret_type in _REGISTRY_TYPES or shape == "registry auth":
        return REGISTRY
    if secret_type == _SSH_AUTH or (shape == "private key" and _SSH.search(name)):
        return SSH_KEY
    if _SIGNING.search(name) and shape not in {"url", "url with credentials"}:
        return SIGNING_KEY
    if shape == "private key":
        if _CLOUD.search(name):
            return CLOUD_KEY
        if secret_type == _TLS_TYPE or _TLS.search(name):
            return TLS_KEY
        return PRIVATE_KEY
    if _CLOUD.search(name) and not store:
        return CLOUD_KEY
    words = set(_words(name))
    if store or words & _STORE_WORDS:
        return DB_SUPERUSER if superuser or words & _SUPERUSER_WORDS else DB_PASSWORD
    if shape in {"token", "json web token"} or _API.search(name):
        return API_KEY
    return PASSWORD


def worst(kinds: Iterable[CredentialKind]) -> CredentialKind:
    """The worst of several kinds (a set is what its worst credential is)."""
    return min(kinds, key=_ORDER.index, default=PASSWORD)


# ---- the name a value was written under ------------------------------------------------------
def _marker_name(text: str, fingerprint: str) -> str | None:
    """The assignment name (``REDIS_PASSWORD``) or URL host just around a marker in text."""
    marker = re.escape(f"{MARKER_PREFIX}:{fingerprint}»")
    found = re.search(r"([A-Za-z0-9_.-]+)[\"']?\s*[:=]\s*[\"']?" + marker, text)
    if found and not re.fullmatch(r"[a-z]+", found.group(1)):
        return found.group(1)
    host = re.search(marker + r"@([A-Za-z0-9_.-]+)", text)
    return host.group(1).split(".", 1)[0] if host else (found.group(1) if found else None)


def credential_name(inv: Inventory, item: SecretValue) -> str:
    """The name a redacted value was written under (key, variable, flag or assignment)."""
    res = inv.get(item.resource) if item.resource else None
    parts = item.path.strip("/").split("/")
    last = parts[-1].replace("~1", "/").replace("~0", "~")
    if res is None:
        return last
    if item.location == "env" and len(parts) >= 2 and parts[-1] == "value":
        entry = res.get("/" + "/".join(parts[:-1]))
        if isinstance(entry, dict) and entry.get("name"):
            return str(entry["name"])
    value = res.get(item.path)
    if isinstance(value, str) and item.reason != "Secret value" \
            and not value.startswith(MARKER_PREFIX):
        named = _marker_name(value, item.fingerprint)
        if named:
            return named
    if item.location in {"args", "command"} and last.isdigit():
        container = res.get("/" + "/".join(parts[:-1]))
        index = int(last)
        if isinstance(container, list):
            flag = str(container[index]).split("=", 1)[0] if index < len(container) else ""
            if flag.startswith("-") and "=" in str(container[index]):
                return flag.lstrip("-")
            previous = str(container[index - 1]) if index > 0 else ""
            if previous.startswith("-"):
                return previous.lstrip("-")
        return item.reason
    return last


# ---- sets --------------------------------------------------------------------------------------
@dataclass
class CredentialSet:
    """The committed credentials of one data store or service in one object."""

    resource: str
    name: str
    keys: list[str] = field(default_factory=list)
    items: list[SecretValue] = field(default_factory=list)
    kinds: list[CredentialKind] = field(default_factory=list)

    @property
    def kind(self) -> CredentialKind:
        """What the set is: its worst credential."""
        return worst(self.kinds)

    @property
    def all_default(self) -> bool:
        """True when every value of the set is a well-known default or placeholder."""
        return bool(self.items) and all(i.shape == "default" for i in self.items)


def _visible(res: Resource, item: SecretValue) -> dict[str, str]:
    """Visible (unredacted) sibling values: env entries of the container, or data keys."""
    parts = item.path.strip("/").split("/")
    if item.location == "env" and "env" in parts:
        env = res.get("/" + "/".join(parts[:parts.index("env") + 1]))
        return {str(e.get("name")): str(e.get("value")) for e in env or []
                if isinstance(e, dict) and isinstance(e.get("value"), str | int)
                and MARKER_PREFIX not in str(e.get("value"))}
    data = res.raw.get("data") if res.kind == "ConfigMap" else None
    return {str(k): str(v) for k, v in (data or {}).items()
            if isinstance(v, str | int) and MARKER_PREFIX not in str(v)}


def _superuser(name: str, visible: dict[str, str], wl: Workload | None) -> bool:
    """The credential is a data store's superuser's (by its name, its user, its consumer)."""
    if name.upper() in _SUPERUSER_VARS and (wl is None or data_store(wl)):
        return True
    prefix = credential_set(name)
    for key, value in visible.items():
        words = _words(key)
        if credential_set(key) == prefix and words and words[-1] in {"user", "username"}:
            return value.strip().lower() in _SUPERUSERS
    return False


def _consumers(inv: Inventory, secret: str, key: str) -> Iterator[tuple[Workload, str]]:
    """(workload, variable) for each env entry that reads ``key`` of Secret ``secret``."""
    for wl in inv.workloads:
        if f"Secret/{wl.namespace}/" + secret.rsplit("/", 1)[-1] != secret:
            continue
        for container in wl.pod.containers:
            for entry in container.env:
                ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
                if isinstance(ref, dict) and f"Secret/{wl.namespace}/{ref.get('name')}" \
                        == secret and str(ref.get("key")) == key:
                    yield wl, str(entry.get("name"))


def credential_sets(inv: Inventory, items: Iterable[SecretValue]) -> list[CredentialSet]:
    """The secret values grouped into sets per object, each with what it holds."""
    sets: dict[tuple[str, str], CredentialSet] = {}
    for item in items:
        if item.resource is None:
            continue
        res = inv.get(item.resource)
        if res is None:
            continue
        name = credential_name(inv, item)
        wl = inv.workload(res.id)
        store = bool(wl is not None and data_store(wl))
        superuser = _superuser(name, _visible(res, item), wl)
        if res.kind == "Secret":
            for consumer, variable in _consumers(inv, res.id, name):
                store = store or bool(data_store(consumer)) or bool(
                    set(_words(variable)) & _STORE_WORDS)
                superuser = superuser or _superuser(variable, {}, consumer)
        group = credential_set(name)
        entry = sets.setdefault((res.id, group), CredentialSet(res.id, group))
        if name not in entry.keys:
            entry.keys.append(name)
        entry.items.append(item)
        entry.kinds.append(kind_of(name, item.shape, secret_type=str(res.raw.get("type") or ""),
                                   reason=item.reason, store=store, superuser=superuser))
    return sorted(sets.values(), key=lambda s: (s.resource, s.name))
