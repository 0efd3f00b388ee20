"""What names a credential, and which values are settings or references rather than secrets.

Redaction is decided by a key's name (an env var, a ConfigMap key, an annotation, a flag) and
by the value itself. These predicates keep what the rules read: a name that only mentions a
credential (``TOKEN_TTL``, ``password-file``, ``secretName``) and a value that is a setting
(a boolean, a number, a duration), a reference (a path, ``$(VAR)``, a template) or a plain word.
"""

from __future__ import annotations

import re

from workflow.domain.value_shapes import not_a_secret

__all__ = [
    "CREDENTIAL_NAME_NEEDLE",
    "is_boolean",
    "is_credential_name",
    "is_reference",
    "is_secret_object_name",
    "is_setting",
    "looks_like_a_secret_word",
    "names_the_credential",
    "setting_is_the_credential",
]

_CREDENTIAL_NAME = re.compile(
    r"(?i)(pass(word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|client[_-]?key|signing[_-]?key|encryption[_-]?key|(^|[_.-])key$|key[_-]?content"
    r"|credential|auth(?!ority|ors?\b)"
    r"|bearer|session[_-]?key|dsn|connection[_-]?string)")
_NOT_CREDENTIAL_NAME = re.compile(
    r"(?i)([_.-](file|path|dir|url|uri|name|ref|id|enabled|mode|type|method|header|endpoint"
    r"|host|port|ttl|timeout|expiry|length|size|format|plugin|provider|mount|location)$"
    r"|^(keys?|token_type)$)")
#: Names that end with the credential itself (``DB_PASSWORD``), not with a property of it
#: (``TOKEN_MAX_AGE``): only those make a number or a duration a secret.
_ENDS_WITH_CREDENTIAL = re.compile(
    r"(?i)(pass(word|wd|phrase)?|pwd|pin|secret|token|key|credentials?)$")
#: A substring every credential name has (the full check runs only on names with one).
CREDENTIAL_NAME_NEEDLE = r"(?i:pass|pwd|secret|token|key|credential|auth|bearer|dsn|connection)"
_NAME_NEEDLE = re.compile(CREDENTIAL_NAME_NEEDLE)
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

_BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "none", "nil",
                            "enabled", "disabled", "enable", "disable", "required", "optional"})
_NUMBER_OR_DURATION = re.compile(
    r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w|y))+"
    r"|\d+(\.\d+)?([KMGTPE]i?|[kmgtpe])?")
_REFERENCE_PREFIXES = ("/", "./", "../", "~/", "$", "{{", "file:", "env:", "secret:",
                       "vault:", "ref+", "arn:aws:secretsmanager:", "projects/")
#: A Kubernetes object name, or namespace/name (what ``*-secret`` annotations hold).
#: A file name with a certificate, key or configuration suffix (``ca.crt``, ``app.yaml``).
_FILE_NAME = re.compile(
    r"[\w.-]+\.(crt|cert|pem|key|pub|csr|der|p12|pfx|jks|json|ya?ml|conf|cfg|ini|toml|txt"
    r"|env|properties)")
_OBJECT_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}(\.[a-z0-9-]{1,63})*(/[a-z][a-z0-9.-]{0,252})?")
_HEX = re.compile(r"[0-9a-f]{16,}")


def _words(name: str) -> str:
    """``secretName`` -> ``secret_Name`` (camelCase words get a separator)."""
    return _CAMEL_BOUNDARY.sub("_", name)


def is_credential_name(name: str) -> bool:
    """True when a variable, key, flag or annotation name suggests it holds a credential."""
    if _NAME_NEEDLE.search(name) is None:
        return False
    words = _words(name)
    return bool(_CREDENTIAL_NAME.search(words)) and not _NOT_CREDENTIAL_NAME.search(words)


def names_the_credential(name: str) -> bool:
    """True when a credential name ends with the credential (``--password``, ``API_TOKEN``)."""
    return is_credential_name(name) and bool(_ENDS_WITH_CREDENTIAL.search(name.rstrip("_-.")))


def is_reference(value: str) -> bool:
    """Paths, file names, variable expansions and templates are not credential values."""
    return value.startswith(_REFERENCE_PREFIXES) or _FILE_NAME.fullmatch(value) is not None


def is_boolean(value: str) -> bool:
    """``true``, ``off``, ``enabled``, ``none``, ...: never a credential."""
    return value.strip().strip("\"'").lower() in _BOOLEAN_WORDS


def is_setting(value: str) -> bool:
    """Booleans, numbers, sizes and durations: what a rule or a reader needs to see."""
    text = value.strip().strip("\"'")
    return text.lower() in _BOOLEAN_WORDS or _NUMBER_OR_DURATION.fullmatch(text) is not None


def setting_is_the_credential(name: str, value: str) -> bool:
    """Whether a setting-like value (a number, size or duration) under ``name`` is a credential.

    Only when the name is the credential itself (``--password 1234``), never for a boolean, and
    a bare number only under a password's name (a PIN; ``ACCESS_TOKEN=3600`` is a lifetime).
    """
    return names_the_credential(name) and not is_boolean(value) and not not_a_secret(name, value)


def is_secret_object_name(key: str, value: str) -> bool:
    """``auth-secret: basic-auth``: a key ending in "secret" that names a Secret object."""
    last = _words(key.rsplit("/", 1)[-1]).lower()
    return (last.endswith("secret") and _OBJECT_NAME.fullmatch(value) is not None
            and not _HEX.search(value))


def looks_like_a_secret_word(value: str) -> bool:
    """A word that could be a password: letters with digits or symbols, or inner capitals.

    Used where prose is matched (``the password is X``): ``stored``, ``Vault``, ``rotated``,
    ``15m`` or ``v1.2`` are kept; ``hunter2``, ``S3cret!`` or ``aB-xY`` are not.
    """
    if (len(value) < 6 or any(c.isspace() for c in value) or is_setting(value)
            or is_reference(value) or "://" in value):
        return False
    if re.fullmatch(r"v?\d+(\.\d+)+([-+][\w.]+)?", value):  # a version
        return False
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    symbols = any(not c.isalnum() and c not in "-_." for c in value)
    inner_capital = any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)
    return (has_digit and has_alpha) or symbols or inner_capital
