"""Versioned prompt files: ``prompts/<id>.v<N>.md`` with front matter and ``$name`` placeholders.

A prompt file starts with front matter between two ``---`` lines::

    ---
    id: identity
    version: 1
    inputs: [inventory, findings, passages, notes, guidance]
    output: PhaseAnswer
    ---
    The body, with $inventory and the other inputs as string.Template placeholders.

``inputs`` must name exactly the placeholders of the body. A released version is never edited:
``prompts/released.sha256`` pins the sha256 of every released file and :func:`load` refuses a
file whose bytes no longer match (write ``<id>.v<N+1>.md`` instead and add its line).
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from workflow.domain.errors import PromptError
from workflow.domain.threat_model import PromptRef

__all__ = ["PROMPT_DIR", "Prompt", "available", "load", "parse"]

#: The directory that holds the prompt files.
PROMPT_DIR = Path(str(files(__name__)))

_FILE_NAME = re.compile(r"^(?P<id>[a-z][a-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.md$")
_KEY_LINE = re.compile(r"^(?P<key>[a-z_]+):\s*(?P<value>.*?)\s*$")
_REQUIRED = ("id", "version", "inputs", "output")
_RELEASED_FILE = "released.sha256"


@dataclass(frozen=True)
class Prompt:
    """One version of one prompt, with its hash and the names it expects."""

    id: str
    version: int
    inputs: tuple[str, ...]
    output: str
    body: str
    sha256: str
    path: str

    @property
    def ref(self) -> PromptRef:
        """The prompt as recorded in a threat model's generator block."""
        return PromptRef(id=self.id, version=self.version, sha256=self.sha256)

    def render(self, **values: object) -> str:
        """The body with every ``$name`` replaced by ``str(values[name])``.

        Args:
            **values: one value per declared input; values are inserted verbatim and never
                re-parsed, so a ``$`` inside a manifest stays a ``$``.

        Raises:
            PromptError: when an input is missing or an unknown input is given.
        """
        missing = sorted(set(self.inputs) - set(values))
        extra = sorted(set(values) - set(self.inputs))
        if missing or extra:
            raise PromptError(
                f"prompt {self.id} v{self.version}: missing inputs {missing}, "
                f"unexpected inputs {extra}")
        return string.Template(self.body).substitute({k: str(v) for k, v in values.items()})


def _parse_value(raw: str) -> str | list[str]:
    if raw.startswith("[") and raw.endswith("]"):
        inner = raw[1:-1].strip()
        return [item.strip() for item in inner.split(",")] if inner else []
    return raw


def parse(text: str, *, path: str = "<string>") -> Prompt:
    """Parse a prompt file's text.

    Args:
        text: the whole file.
        path: where it came from, for error messages.

    Raises:
        PromptError: when the front matter is missing or malformed, or the placeholders of the
            body differ from the declared inputs.
    """
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise PromptError(f"{path}: no front matter (the first line must be ---)")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise PromptError(f"{path}: front matter is not closed by ---") from None
    meta: dict[str, str | list[str]] = {}
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip():
            continue
        match = _KEY_LINE.match(line)
        if match is None:
            raise PromptError(f"{path}:{number}: front matter line is not 'key: value'")
        meta[match["key"]] = _parse_value(match["value"])
    absent = [key for key in _REQUIRED if key not in meta]
    if absent:
        raise PromptError(f"{path}: front matter lacks {', '.join(absent)}")
    pid, version, inputs, output = (meta["id"], meta["version"], meta["inputs"], meta["output"])
    if not isinstance(pid, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", pid):
        raise PromptError(f"{path}: id must be a lower-case name")
    if not isinstance(version, str) or not version.isdigit() or int(version) < 1:
        raise PromptError(f"{path}: version must be a positive integer")
    if not isinstance(inputs, list) or not isinstance(output, str) or not output:
        raise PromptError(f"{path}: inputs must be a [list] and output a name")
    body = "".join(lines[end + 1:])
    template = string.Template(body)
    if not template.is_valid():
        raise PromptError(f"{path}: the body has an invalid $ placeholder (write $$ for a $)")
    used = set(template.get_identifiers())
    if used != set(inputs):
        raise PromptError(
            f"{path}: placeholders {sorted(used)} differ from declared inputs {sorted(inputs)}")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Prompt(id=pid, version=int(version), inputs=tuple(inputs), output=output, body=body,
                  sha256=digest, path=path)


def available(directory: Path | None = None) -> dict[str, list[int]]:
    """Every prompt id in ``directory`` with its versions, oldest first."""
    found: dict[str, list[int]] = {}
    for item in sorted((directory or PROMPT_DIR).iterdir()):
        match = _FILE_NAME.match(item.name)
        if match:
            found.setdefault(match["id"], []).append(int(match["version"]))
    return {pid: sorted(versions) for pid, versions in found.items()}


@cache
def _released(directory: Path) -> dict[str, str]:
    pinned: dict[str, str] = {}
    path = directory / _RELEASED_FILE
    if not path.is_file():
        return pinned
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, _, name = line.strip().partition("  ")
            pinned[name.strip()] = digest
    return pinned


def load(phase_or_id: str, version: int | None = None, *, directory: Path | None = None) -> Prompt:
    """Load a prompt by id (a phase name or ``system``), newest version unless one is given.

    Args:
        phase_or_id: the prompt id, e.g. ``identity`` or ``system`` (a ``Phase`` works too).
        version: the version to load; the highest available when None.
        directory: where the files are (the package directory by default).

    Raises:
        PromptError: when the file is missing, malformed, named differently from its front
            matter, or a released file whose bytes changed.
    """
    where = directory or PROMPT_DIR
    pid = str(phase_or_id)
    versions = available(where).get(pid)
    if not versions:
        raise PromptError(f"no prompt named {pid!r} in {where}")
    wanted = versions[-1] if version is None else version
    name = f"{pid}.v{wanted}.md"
    path = where / name
    if not path.is_file():
        raise PromptError(f"prompt {pid!r} has no version {wanted} (available: {versions})")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    prompt = parse(text, path=str(path))
    if (prompt.id, prompt.version) != (pid, wanted):
        raise PromptError(f"{path}: front matter says {prompt.id} v{prompt.version}")
    pinned = _released(where).get(name)
    if pinned is not None and pinned != prompt.sha256:
        raise PromptError(
            f"{path}: released prompt was edited (sha256 differs from {_RELEASED_FILE}); "
            f"restore it and write {pid}.v{wanted + 1}.md instead")
    return prompt
