"""Where secrets are in a piece of text: a manifest value, a script, a note.

:func:`find_secrets` returns the spans to blank out, found by

- detect-secrets' provider plugins and its keyword plugin, line by line
  (:mod:`workflow.domain.secret_plugins`), and two formats it has no plugin for (Google API
  keys, GitHub fine-grained tokens);
- private key blocks (PEM, also with escaped newlines inside JSON such as a GCP
  service-account key) and base64-encoded private keys or service-account files;
- credentials in URLs (``scheme://user:VALUE@``, ``?token=VALUE``), ``Authorization``
  headers and ``Bearer``/``Basic`` credentials;
- a credential word near its value: ``token: VALUE``, ``password=VALUE``, ``the ledger DB
  password is VALUE``;
- command lines (:mod:`workflow.domain.command_lines`);
- cloud secret keys with no name next to them: the shapes of an AWS secret access key
  (40 characters) and an Azure storage key (88, ending ``==``) that read as random;
- in prose (notes), any random-looking token of 24 characters or more, and random hex.

:func:`may_hold_secret` is the cheap check made first on every manifest value: a value in which
none of these can match is returned as it is, without running a plugin.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from workflow.domain.command_lines import COMMAND_NEEDLE, command_line_secrets
from workflow.domain.credential_names import (
    is_credential_name,
    is_reference,
    is_setting,
    looks_like_a_secret_word,
    setting_is_the_credential,
)
from workflow.domain.secret_plugins import (
    KEYWORD_NEEDLE,
    KEYWORD_SHAPE,
    PROVIDER_NEEDLES,
    keyword_hits,
    looks_random,
    provider_hits,
    quoted_high_entropy,
    random_hex,
)

__all__ = ["MARKER_PREFIX", "Hit", "find_secrets", "may_hold_secret"]

MARKER_PREFIX = "«redacted"
_MARKER = re.compile(r"«redacted[^»]*»")

_PRIVATE_KEY_BLOCK = re.compile(
    r"-{3,5}BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-{3,5}[\s\S]*?"
    r"(?:-{3,5}END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-{3,5}|\Z)|PuTTY-User-Key-File-\d[\s\S]*")
#: A long base64 run that may encode a PEM block or a JSON file (checked by decoding it).
_ENCODED = re.compile(r"(?<![A-Za-z0-9+/])(?:LS0tLS1CRUdJT|ew|ey)[A-Za-z0-9+/]{98,}={0,2}")
#: ``scheme://user:password@host`` (the password may hold ``@`` and sub-delimiters).
_URL_CREDENTIALS = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@\"'?#]*:([^\s/\"'?#]+)@")
_URL_PARAMETER = re.compile(r"[?&;]([\w.-]+)=([^&\s#\"'<>;]+)")
_SIGNATURE_PARAMETERS = frozenset({"sig", "signature", "x-amz-signature", "x-goog-signature"})
_AUTH_HEADER = re.compile(
    r"(?i)\b(?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?"
    r"(?:(?:bearer|basic|token|digest|negotiate|apikey|api-key|sso-key|key|hmac)[ \t]+)?"
    r"([^\s\"',;]+)")
_SCHEME_CREDENTIAL = re.compile(r"(?i)\b(?:bearer|basic)[ \t]+([A-Za-z0-9._~+/=-]{6,})")
_KEY_WORDS = (r"pass(?:word|wd|phrase)?|pwd|secret|token|api[ _-]?key|access[ _-]?key"
              r"|private[ _-]?key|auth[ _-]?key|client[ _-]?key|signing[ _-]?key"
              r"|credentials?|bearer")
_KEYWORD_VALUE = re.compile(
    rf"(?i)(?P<key>(?<![\w.-])[\w.-]*?(?:{_KEY_WORDS})[\w.-]*)"
    r"(?P<gap>(?:[ \t]+[\w'.-]+){0,4}?)[\"'\]]{0,2}[ \t]*"
    r"(?P<conn>:=|=>|[:=]|\b(?:is|was|are|were|equals|reads|set[ \t]+to)\b[ \t]*:?)[ \t]*"
    r"(?P<value>`[^`\n]+`|\"[^\"\n]+\"|'[^'\n]+'|[^\s\"'`,;]+)")
_ASSIGNING = frozenset({":", "=", ":=", "=>"})
#: The key in front of a value the keyword plugin found (``db_password: "``).
_KEY_BEFORE = re.compile(r"([\w.-]+)[\"'\]]{0,2}\s*(?::=|=>|!==?|={1,3}|:)\s*[\"'`@]?$")
_AWS_SECRET_SHAPE = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=_-])")
_AZURE_KEY_SHAPE = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=_-])")
_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{24,}={0,2}(?![A-Za-z0-9+/=_-])")
_HEX_TOKEN = re.compile(r"(?<![\w:])[0-9a-fA-F]{32,}(?!\w)")
#: Provider formats detect-secrets has no plugin for.
_OWN_FORMATS = ((re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), "Google API key"),
                (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}"), "GitHub fine-grained token"))
#: What a provider format, a private key block or a key shape needs (checked on every value).
_BARE_NEEDLES = re.compile("|".join([*PROVIDER_NEEDLES, r"AIza|github_pat_",
                                     r"[A-Za-z0-9+/]{40}"]))
#: What a credential word near its value, a header or a command line needs; these match
#: only in text with a separator (a space, ``:`` or ``=``).
_SEPARATOR = re.compile(r"[\s:=]")
_CONTEXT_NEEDLES = re.compile(
    rf"{KEYWORD_NEEDLE}|{COMMAND_NEEDLE}|(?i:token|auth|bearer|basic|credential|sig(?:nature)?=)"
    r"|://[^\s/]*@")
_COMMAND_NEEDLE = re.compile(
    rf"{COMMAND_NEEDLE}|{KEYWORD_NEEDLE}|(?i:token|auth|bearer|credential|-u\b|--user)")
_PROVIDER_NEEDLES = re.compile("|".join(PROVIDER_NEEDLES))
#: What the entropy plugins look at: a quoted run of base64 or hex characters.
_QUOTED_RUN = re.compile(r"['\"][A-Za-z0-9+/=_-]{16,}['\"]")


@dataclass(frozen=True)
class Hit:
    """A span of text that holds a secret, and why it was taken for one."""

    start: int
    end: int
    reason: str


def may_hold_secret(text: str) -> bool:
    """Whether any detector can match ``text`` at all (the cheap check on every value)."""
    if len(text) < 6:
        return False
    if _BARE_NEEDLES.search(text) is not None:
        return True
    return _SEPARATOR.search(text) is not None and _CONTEXT_NEEDLES.search(text) is not None


def find_secrets(text: str, *, prose: bool = False) -> list[Hit]:
    """The secret spans of ``text``, merged, in order, never inside an existing marker.

    Args:
        text: a manifest value, a script or a note.
        prose: the text is notes: values next to credential words must look like passwords,
            and random-looking tokens are secrets wherever they stand.
    """
    context = prose or _SEPARATOR.search(text) is not None
    hits = [*_blocks(text), *_plugin_hits(text, prose=prose, context=context)]
    if context:
        hits.extend(_patterns(text, prose=prose))
    if prose or (context and _COMMAND_NEEDLE.search(text)):
        for value, reason in command_line_secrets(text):
            if prose and not looks_like_a_secret_word(value):
                continue
            if len(value) >= 4 or prose:
                hits.extend(_occurrences(text, value, 0, len(text), reason, whole=True))
    hits.extend(_shapes(text, prose=prose))
    return _merge(hits, [m.span() for m in _MARKER.finditer(text)])


def _blocks(text: str) -> Iterator[Hit]:
    """Private key blocks, encoded private keys and the formats no plugin knows."""
    for pattern, reason in _OWN_FORMATS:
        for match in pattern.finditer(text):
            yield Hit(*match.span(), reason)
    if "PRIVATE KEY" in text or "PuTTY" in text:
        for match in _PRIVATE_KEY_BLOCK.finditer(text):
            yield Hit(match.start(), match.end(), "private key")
    for match in _ENCODED.finditer(text):
        if _encodes_a_private_key(match.group(0)):
            yield Hit(match.start(), match.end(), "encoded private key")


def _encodes_a_private_key(run: str) -> bool:
    try:
        decoded = base64.b64decode(run + "=" * (-len(run) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b"PRIVATE KEY" in decoded or b"private_key" in decoded


def _patterns(text: str, *, prose: bool) -> Iterator[Hit]:
    for match in _URL_CREDENTIALS.finditer(text):
        if MARKER_PREFIX not in match.group(1):
            yield Hit(*match.span(1), "credentials in a URL")
    for match in _URL_PARAMETER.finditer(text):
        name, value = match.groups()
        if (is_credential_name(name) or name.lower() in _SIGNATURE_PARAMETERS) \
                and _plausible(value, name, strict=False):
            yield Hit(*match.span(2), f"URL parameter {name}")
    for match in _AUTH_HEADER.finditer(text):
        if _plausible(match.group(1), "authorization", strict=False):
            yield Hit(*match.span(1), "Authorization header")
    for match in _SCHEME_CREDENTIAL.finditer(text):
        if looks_like_a_secret_word(match.group(1)) or looks_random(match.group(1)):
            yield Hit(*match.span(1), "Bearer or Basic credential")
    for match in _KEYWORD_VALUE.finditer(text):
        yield from _keyword_hit(match, prose=prose)


def _keyword_hit(match: re.Match[str], *, prose: bool) -> Iterator[Hit]:
    key, gap, conn = match.group("key"), match.group("gap"), match.group("conn").strip()
    assigning = conn in _ASSIGNING
    if (assigning and gap) or not is_credential_name(key.replace(" ", "_")):
        return
    start, end = match.span("value")
    value = match.group("value")
    if value[0] in "`\"'":
        start, end, value = start + 1, end - 1, value[1:-1]
    else:
        trimmed = value.rstrip(".,;:)")
        end -= len(value) - len(trimmed)
        value = trimmed
    if _plausible(value, key, strict=prose or not assigning, quoted=start > match.start("value")):
        yield Hit(start, end, f"value of {key}")


def _plausible(value: str, key: str, *, strict: bool, quoted: bool = False) -> bool:
    """Whether a value next to a credential name can be the credential."""
    if (len(value) < 3 or MARKER_PREFIX in value or is_reference(value) or "://" in value
            or value[0] in "{[|>\\($"):  # structures, block scalars, escapes, $(...), $VAR
        return False
    if is_setting(value):
        return not strict and setting_is_the_credential(key, value)
    if not strict:
        return True
    if quoted:
        return len(value) >= 4 and not any(c.isspace() for c in value)
    return looks_like_a_secret_word(value)


def _plugin_hits(text: str, *, prose: bool, context: bool) -> Iterator[Hit]:
    """Provider plugins, the keyword plugin and (in prose) the entropy plugins, line by line.

    Each runs only on a line that holds what its patterns need, so text without any never
    loads detect-secrets.
    """
    offset = 0
    for line in text.splitlines(keepends=True):
        start, offset = offset, offset + len(line)
        if _PROVIDER_NEEDLES.search(line):
            for hit in provider_hits(line):
                if hit.plugin != "PrivateKeyDetector":  # _blocks finds the whole block
                    yield Hit(start + hit.start, start + hit.end, hit.secret_type)
        if context and KEYWORD_SHAPE.search(line):
            for hit in keyword_hits(line):
                key = _KEY_BEFORE.search(line[:hit.start])
                name = key.group(1) if key else "password"
                if (key is None or is_credential_name(name)) \
                        and _plausible(line[hit.start:hit.end].strip(), name, strict=prose):
                    yield Hit(start + hit.start, start + hit.end, f"value of {name}")
        if prose and _QUOTED_RUN.search(line):
            for value in quoted_high_entropy(line):
                yield from _occurrences(text, value, start, offset, "high-entropy string")


def _shapes(text: str, *, prose: bool) -> Iterator[Hit]:
    """Cloud secret keys with no name next to them; in prose, any random-looking token."""
    shapes: list[tuple[re.Pattern[str], str]] = [
        (_AWS_SECRET_SHAPE, "AWS secret access key shape"),
        (_AZURE_KEY_SHAPE, "Azure storage key shape")]
    if prose:
        shapes.append((_TOKEN, "high-entropy token"))
    for pattern, reason in shapes:
        for match in pattern.finditer(text):
            if looks_random(match.group(0).rstrip("=")):
                yield Hit(*match.span(), reason)
    if prose:
        for match in _HEX_TOKEN.finditer(text):
            if random_hex(match.group(0)):
                yield Hit(*match.span(), "high-entropy hex string")


def _occurrences(text: str, value: str, start: int, end: int, reason: str, *,
                 whole: bool = False) -> Iterator[Hit]:
    """Every occurrence of ``value`` in ``text[start:end]``; short values as whole words.

    When a value (from a parsed command line, say, with escapes undone) is not found as
    written, the whole range is blanked rather than let it through.
    """
    found = False
    at = text.find(value, start, end)
    while at >= 0:
        after = at + len(value)
        if len(value) >= 4 or ((at == 0 or not text[at - 1].isalnum())
                               and (after == len(text) or not text[after].isalnum())):
            found = True
            yield Hit(at, after, reason)
        at = text.find(value, after, end)
    if not found and whole and value:
        yield Hit(start, end, reason)


def _merge(hits: Iterable[Hit], markers: list[tuple[int, int]]) -> list[Hit]:
    """Overlapping hits as one, with existing markers cut out."""
    merged: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -h.end)):
        if hit.end <= hit.start:
            continue
        if merged and hit.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Hit(last.start, max(last.end, hit.end), last.reason)
        else:
            merged.append(hit)
    out: list[Hit] = []
    for hit in merged:
        pieces = [(hit.start, hit.end)]
        for m_start, m_end in markers:
            pieces = [part for s, e in pieces for part in ((s, min(e, m_start)),
                                                           (max(s, m_end), e)) if part[0] < part[1]]
        out.extend(Hit(s, e, hit.reason) for s, e in pieces)
    return out
