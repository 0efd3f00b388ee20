"""Credentials on command lines: a container's command and args, ``sh -c`` scripts, hooks.

A command line is split into words as a POSIX shell would (quotes removed, ``;``, ``&&``,
``|`` and redirections as separators, backslash-newline joined). Then, per command:

- ``--password=VALUE``, ``--password VALUE``, ``-password=VALUE`` and any flag whose name is
  a credential name (``--db-password``, ``--token``, ``--api-key``, ``-Dapp.secret=VALUE``);
- ``NAME=VALUE`` words (``export DB_PASSWORD=VALUE``, ``--set auth.rootPassword=VALUE``);
- ``-u user:VALUE`` and ``--user user:VALUE`` (curl);
- a program's own short flags: ``mysql -pVALUE`` (and its siblings), ``redis-cli -a VALUE``,
  ``sshpass -p VALUE``, ``mongosh -p VALUE``.

Values that are references (``$(VAR)``, ``$VAR``, paths) or settings (``true``, ``30s``,
``8080``) are kept, unless the flag names the credential itself (``--password 1234``).
Headers (``-H 'Authorization: Bearer VALUE'``) and URLs with credentials are found in the
text by :mod:`workflow.domain.secret_text`, wherever they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from workflow.domain.credential_names import (
    CREDENTIAL_NAME_NEEDLE,
    is_credential_name,
    is_reference,
    is_setting,
    setting_is_the_credential,
)

__all__ = ["COMMAND_NEEDLE", "Credential", "command_line_secrets", "words_secrets"]

_WORD = re.compile(r"""(?:[^\s'"\\;&|<>]+|'[^']*'|"(?:[^"\\]|\\.)*"|\\.)+|[;&|<>]+""")
_QUOTED = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)""")
_ESCAPED = re.compile(r"\\(.)")
_SEPARATORS = frozenset({";", "&&", "||", "|", "&", ">", ">>", "<", "<<", "|&", ";;"})
_FLAG = re.compile(r"(-{1,2})([A-Za-z][\w.-]*)(?:=(.*))?", re.DOTALL)
_ASSIGNMENT = re.compile(r"([A-Za-z_][\w.-]*)=(.+)", re.DOTALL)
_MYSQL = re.compile(r"mysql\w*|mariadb[\w-]*")
#: program -> short flag whose value is the password (attached or as the next word).
_PASSWORD_FLAGS = {"redis-cli": "-a", "sshpass": "-p", "mongo": "-p", "mongosh": "-p",
                   "mongodump": "-p", "mongorestore": "-p", "mongoexport": "-p",
                   "mongoimport": "-p"}
_USER_FLAGS = frozenset({"-u", "--user", "-U", "--proxy-user"})
#: Programs whose short password flags this module knows, and curl (``-u user:pass``).
COMMAND_NEEDLE = r"mysql|mariadb|redis-cli|sshpass|mongo|curl"
#: What a line needs to hold a credential this module finds: a program above, a credential
#: word (in a flag or a variable name) or a user flag.
_LINE_NEEDLE = re.compile(rf"{COMMAND_NEEDLE}|--user|-U\b|{CREDENTIAL_NAME_NEEDLE}")


class Credential(NamedTuple):
    """A credential among words: which word holds it, its value, and why it was taken."""

    word: int
    value: str
    reason: str


def command_line_secrets(text: str) -> Iterator[tuple[str, str]]:
    """(value, reason) for each credential on the command lines of ``text`` (a script).

    Only the lines that name a known program or hold a credential word are split into words.
    """
    for line in text.replace("\\\n", " ").splitlines():
        if _LINE_NEEDLE.search(line):
            for found in words_secrets(_split(line)):
                yield found.value, found.reason


def words_secrets(words: Sequence[str]) -> Iterator[Credential]:
    """Each credential in a list of words (a container's ``command`` and ``args``).

    A word with spaces in it (the script of ``sh -c``) is a command line of its own; what is
    found in it is reported as held by that word.
    """
    for command in _commands(words):
        yield from _command_secrets(command)
    for index, word in enumerate(words):
        if any(c.isspace() for c in word.strip()):
            for value, reason in command_line_secrets(word):
                yield Credential(index, value, reason)


def _split(line: str) -> list[str]:
    """Shell words, quotes removed; ``;``, ``&&``, ``|`` and redirections as words of their own.

    A regular expression rather than :mod:`shlex`, which reads a character at a time in Python
    (4 ms for a 600-character ``sh -c`` line); a quote that is never closed is skipped.
    """
    return [_unquote(match.group(0)) for match in _WORD.finditer(line)]


def _unquote(word: str) -> str:
    if not any(c in word for c in "'\"\\"):
        return word
    return _QUOTED.sub(lambda m: m.group(1) if m.group(1) is not None
                       else _ESCAPED.sub(r"\1", m.group(2)) if m.group(2) is not None
                       else m.group(3), word)


def _commands(words: Iterable[str]) -> Iterator[list[tuple[int, str]]]:
    """The commands among words (split at ``;``, ``&&``, ``|``, ...), words numbered."""
    current: list[tuple[int, str]] = []
    for index, word in enumerate(words):
        if word in _SEPARATORS:
            if current:
                yield current
            current = []
        else:
            current.append((index, word))
    if current:
        yield current


def _usable(value: str, name: str) -> bool:
    """A flag or variable value that can be a credential (not a reference or a setting)."""
    if (not value or value.startswith("-") or is_reference(value) or "://" in value
            or "«redacted" in value):
        return False
    return not is_setting(value) or setting_is_the_credential(name, value)


def _command_secrets(command: list[tuple[int, str]]) -> Iterator[Credential]:
    programs = {word.rsplit("/", 1)[-1] for _, word in command}
    mysql = any(_MYSQL.fullmatch(p) for p in programs)
    password_flags = {_PASSWORD_FLAGS[p] for p in programs if p in _PASSWORD_FLAGS}
    curl = "curl" in programs
    for position, (index, word) in enumerate(command):
        after = command[position + 1][1] if position + 1 < len(command) else ""
        if mysql and word.startswith("-p") and len(word) > 2 and word[2] != "-":
            if _usable(word[2:], "password"):
                yield Credential(index, word[2:], "mysql -p password")
        elif word in password_flags or ("sshpass" in programs and word.startswith("-p")
                                        and len(word) > 2):
            if word[2:] and _usable(word[2:], "password"):
                yield Credential(index, word[2:], f"{word[:2]} password")
            elif not word[2:] and _usable(after, "password"):
                yield Credential(index + 1, after, f"{word} password")
        else:
            for in_next, value, reason in _word_secrets(word, after, curl=curl):
                yield Credential(index + in_next, value, reason)


def _word_secrets(word: str, after: str, *, curl: bool) -> Iterator[tuple[int, str, str]]:
    """(0 for this word or 1 for the next, value, reason) for a ``NAME=VALUE`` word or a flag."""
    assignment = _ASSIGNMENT.fullmatch(word)
    if assignment and not word.startswith("-"):
        name, value = assignment.groups()
        if is_credential_name(name) and _usable(value, name):
            yield 0, value, f"command-line variable {name}"
        return
    flag = _FLAG.fullmatch(word)
    if flag is None:
        return
    dashes, name, value = flag.groups()
    if f"{dashes}{name}" in _USER_FLAGS:
        password = (after if value is None else value).partition(":")[2]
        if (curl or dashes == "--") and _usable(password, "user"):
            yield int(value is None), password, "user:password on a command line"
    elif is_credential_name(name):
        if value is None:
            if _usable(after, name):
                yield 1, after, f"command-line flag {dashes}{name}"
        elif _usable(value, name):
            yield 0, value, f"command-line flag {dashes}{name}"
    elif value is not None and (inner := _ASSIGNMENT.fullmatch(value)) \
            and is_credential_name(inner.group(1)) and _usable(inner.group(2), inner.group(1)):
        yield 0, inner.group(2), f"command-line flag {dashes}{name}"
