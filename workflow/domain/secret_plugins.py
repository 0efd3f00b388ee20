"""detect-secrets' plugins, run line by line on the few values that can hold a secret.

The plugins are per-line regular expressions (``analyze_string``): provider formats (AWS,
Azure storage, GitHub, GitLab, Slack, Stripe, JWT, npm, OpenAI, PyPI, SendGrid, Square,
Telegram, Twilio, Discord, Mailchimp, private keys), the keyword plugin
(``password: x`` and its kin) and the high-entropy calculators. Each provider plugin runs only
on a line that holds its *needle*, a literal it cannot match without, and the union of the
needles is part of the cheap check :mod:`workflow.domain.secret_text` makes on every value.
The plugins are never asked to verify a secret (that would call the provider's API).

detect-secrets imports ``requests`` (about 70 ms), so it is imported the first time a value
needs a plugin; a scan whose values hold no needle never loads it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import (
        Base64HighEntropyString,
        HexHighEntropyString,
    )

__all__ = [
    "KEYWORD_NEEDLE",
    "KEYWORD_SHAPE",
    "PROVIDER_NEEDLES",
    "PluginHit",
    "keyword_hits",
    "looks_random",
    "provider_hits",
    "quoted_high_entropy",
    "random_hex",
]

#: (module, class, needle): a provider plugin runs only where its needle occurs. The basic-auth
#: plugin is not used: its pattern misses passwords with ``!$&'()*+,;=`` in them, and
#: :mod:`workflow.domain.secret_text` finds credentials in URLs with one that does not.
_PROVIDERS: tuple[tuple[str, str, str], ...] = (
    ("aws", "AWSKeyDetector", r"A3T|ABIA|ACCA|AKIA|ASIA|(?i:aws)[^\n]*?[0-9a-zA-Z/+]{40}"),
    ("azure_storage_key", "AzureStorageKeyDetector", r"AccountKey="),
    ("discord", "DiscordBotTokenDetector", r"[MNO][\w-]{23,25}\."),
    ("github_token", "GitHubTokenDetector", r"gh[pousr]_"),
    ("gitlab_token", "GitLabTokenDetector",
     r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-|GR1348941"),
    ("jwt", "JwtTokenDetector", r"eyJ"),
    ("mailchimp", "MailchimpDetector", r"[0-9a-z]{32}-us\d"),
    ("npm", "NpmDetector", r"_authToken"),
    ("openai", "OpenAIDetector", r"T3BlbkFJ"),
    ("private_key", "PrivateKeyDetector", r"PRIVATE KEY|PuTTY-User-Key"),
    ("pypi_token", "PypiTokenDetector", r"pypi-Ag"),
    ("sendgrid", "SendGridDetector", r"SG\."),
    ("slack", "SlackDetector", r"(?i:xox[abposr]-)|hooks\.slack\.com"),
    ("square_oauth", "SquareOAuthDetector", r"sq0csp-"),
    ("stripe", "StripeDetector", r"[rs]k_live_"),
    ("telegram_token", "TelegramBotTokenDetector", r"\d{8}:[\w-]{35}"),
    ("twilio", "TwilioKeyDetector", r"(?:AC|SK)[a-z0-9]{32}"),
)
PROVIDER_NEEDLES = tuple(needle for *_, needle in _PROVIDERS)
#: What the keyword plugin's denylist needs (``password``, ``secret``, ``api_key``, ...).
KEYWORD_NEEDLE = r"(?i:pass|pwd|secret|key|contrase)"
#: What its patterns for configuration files need besides: an assignment followed by a word
#: character (their values start with one: ``key=/path`` or ``key: ${VAR}`` cannot match), a
#: comparison, or a quoted value and ``;``.
KEYWORD_SHAPE = re.compile(
    rf"{KEYWORD_NEEDLE}\w*[\]'\"]{{0,2}}\s*(?::=?|={{1,3}}|!==?|=>)\s*[@'\"`]?\w"
    rf"|[!=]{{2,3}}\s*\w*{KEYWORD_NEEDLE}|{KEYWORD_NEEDLE}\S{{0,50}}?\s*['\"`][^'\"`]*['\"`];")
_INDIRECT = re.compile(r"[\w.-]+[\[(].*[\])]")
_LOWERCASE_RUN = re.compile(r"[a-z]{4,}")
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-=")


@dataclass(frozen=True)
class _Plugins:
    """Plugin instances with their needles (built once per process: they hold only regexes)."""

    providers: tuple[tuple[re.Pattern[str], RegexBasedDetector], ...]
    keyword_patterns: dict[re.Pattern[str], int]
    base64: Base64HighEntropyString
    hex: HexHighEntropyString


@cache
def _plugins() -> _Plugins:
    # Deferred: detect-secrets imports requests, which ktmb otherwise never loads.
    import importlib

    from detect_secrets.plugins.high_entropy_strings import (
        Base64HighEntropyString,
        HexHighEntropyString,
    )
    from detect_secrets.plugins.keyword import REGEX_BY_FILETYPE
    from detect_secrets.util.filetype import FileType

    providers = []
    for module, cls, needle in _PROVIDERS:
        plugin_class = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), cls)
        providers.append((re.compile(needle), plugin_class()))
    return _Plugins(providers=tuple(providers), keyword_patterns=REGEX_BY_FILETYPE[FileType.YAML],
                    base64=Base64HighEntropyString(), hex=HexHighEntropyString())


@dataclass(frozen=True)
class PluginHit:
    """Where a plugin (class name) found a secret in a line, and the plugin's name for it."""

    plugin: str
    secret_type: str
    start: int
    end: int


def provider_hits(line: str) -> Iterator[PluginHit]:
    """Each provider-format secret in one line, located.

    A plugin's ``analyze_string`` yields the non-empty groups of its ``denylist`` patterns,
    which is the secret for some (the password of a URL) and a prefix for others (``glpat`` of
    a GitLab token); this runs the same patterns and takes the first non-empty group (or the
    whole match) grown to the end of its token, so the span is the token, and only that
    occurrence of it. The private key plugin finds a block's header (the caller blanks the
    whole block); the Azure plugin's match starts with ``AccountKey=`` (kept).
    """
    for needle, plugin in _plugins().providers:
        if needle.search(line) is None:
            continue
        name, secret_type = type(plugin).__name__, str(plugin.secret_type)
        for pattern in plugin.denylist:
            for match in pattern.finditer(line):
                group = next((i for i in range(1, pattern.groups + 1) if match.group(i)), 0)
                start, end = match.span(group)
                if name == "AzureStorageKeyDetector":
                    start += len("AccountKey=")
                while end < len(line) and line[end] in _TOKEN_CHARS:
                    end += 1
                if end > start and not _filtered(line[start:end]):
                    yield PluginHit(name, secret_type, start, end)


def keyword_hits(line: str) -> Iterator[PluginHit]:
    """Values the keyword plugin finds assigned to credential-sounding keys in one line.

    The plugin's patterns for configuration files (YAML, INI, properties: ``key: value``,
    ``key = value``), run as its ``analyze_string`` runs them, each value located. A value
    that is a call or an index (``get_password()``, ``vault[db]``) is an indirect reference,
    as detect-secrets' filter has it (checked on the value: the filter's pattern is slow on a
    long line).
    """
    for pattern, group in _plugins().keyword_patterns.items():
        match = pattern.search(line)
        if match is None or not match.group(group):
            continue
        value = match.group(group)
        if not _filtered(value) and _INDIRECT.fullmatch(value.strip()) is None:
            yield PluginHit("KeywordDetector", "Secret Keyword", *match.span(group))


def _filtered(value: str) -> bool:
    """detect-secrets' default heuristic filters (sequences, UUIDs, templates, $VARs)."""
    from detect_secrets.filters.heuristic import (
        is_not_alphanumeric_string,
        is_potential_uuid,
        is_prefixed_with_dollar_sign,
        is_sequential_string,
        is_templated_secret,
    )

    return (is_sequential_string(value) or is_potential_uuid(value)
            or is_templated_secret(value) or is_prefixed_with_dollar_sign(value)
            or is_not_alphanumeric_string(value))


def quoted_high_entropy(line: str) -> Iterator[str]:
    """Quoted base64 or hex strings above the plugins' entropy limits (their own rule)."""
    plugins = _plugins()
    for plugin in (plugins.base64, plugins.hex):
        for value in plugin.analyze_string(line):
            if len(value) >= 16 and plugin.calculate_shannon_entropy(value) > plugin.entropy_limit:
                yield value


def looks_random(token: str) -> bool:
    """An unquoted base64-alphabet token that reads as random, not as words.

    The base64 plugin's limit (4.5 bits per character) is for quoted strings of any length;
    a random token of n characters has about 0.8 * log2(n) bits per character, so shorter
    keys (an AWS secret key has 40) are judged against that. Identifiers are told apart by
    their words: in a random token, runs of four or more lowercase letters cover under half
    of it (99% of random tokens of 24 characters, more of longer ones), in
    ``GoogleCloudPlatformServiceAccount2024Key`` they cover 70%.
    """
    if not (any(c.isupper() for c in token) and any(c.islower() for c in token)
            and any(c.isdigit() for c in token)):
        return False
    plugin = _plugins().base64
    limit = min(plugin.entropy_limit, 0.75 * math.log2(len(token)))
    if plugin.calculate_shannon_entropy(token) < limit:
        return False
    worded = sum(len(run) for run in _LOWERCASE_RUN.findall(token))
    changes = sum(_class(a) != _class(b) for a, b in pairwise(token))
    return worded < 0.5 * len(token) and changes >= 0.3 * (len(token) - 1)


def random_hex(token: str) -> bool:
    """A hex token above the hex plugin's entropy limit."""
    plugin = _plugins().hex
    return plugin.calculate_shannon_entropy(token) > plugin.entropy_limit


def _class(char: str) -> int:
    return 0 if char.isupper() else 1 if char.islower() else 2 if char.isdigit() else 3
