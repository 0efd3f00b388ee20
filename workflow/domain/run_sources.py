"""What a run read, as digests, and what changed since (``ktmb run --since``, ``ktmb watch``).

A run's input files are recorded with their digests (manifests as loaded: a chart's rendered
templates, a kustomization's rendered objects; notes). Besides them a run records
:class:`RunSources`: the digest of the application's profile file and of the knowledge base
its principal reads. :func:`changes` compares two such records and says, one line each, what
differs; nothing when the inputs, the profile and the knowledge base are all the same, so a
rerun would ask the same questions (and the model's answers come from the cache).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from workflow.domain.errors import InventoryError
from workflow.domain.threat_model import InputFile

__all__ = ["PROFILE_NAME", "RunSources", "changes", "file_sha256", "find_profile"]

#: The application's profile file, looked for beside its manifests.
PROFILE_NAME = "ktmb.yaml"

_ROLES = {"manifest": "manifest", "stdin": "standard input", "architecture": "notes"}


class RunSources(BaseModel):
    """What a run read besides its input files (``None``: none, or not recorded)."""

    model_config = ConfigDict(frozen=True)

    profile_sha256: str | None = None
    kb_digest: str | None = None


def find_profile(paths: Sequence[str | Path], explicit: Path | None = None) -> Path | None:
    """The profile of an application: ``explicit``, else ``ktmb.yaml`` beside its manifests.

    Beside means in a directory given, or in the directory of a file given (the first found).
    """
    if explicit is not None:
        return explicit
    for raw in paths:
        if str(raw) == "-":
            continue
        path = Path(raw)
        folder = path if path.is_dir() else path.parent
        if (folder / PROFILE_NAME).is_file():
            return folder / PROFILE_NAME
    return None


def file_sha256(path: Path | None) -> str | None:
    """The SHA-256 of a file (None for no file).

    Raises:
        InventoryError: the file cannot be read.
    """
    if path is None:
        return None
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise InventoryError(str(path), f"cannot read: {exc.strerror or exc}") from None


def _by_path(files: Iterable[InputFile | Mapping[str, Any]]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for item in files:
        data = item.model_dump() if isinstance(item, InputFile) else item
        out[str(data["path"])] = (str(data.get("role", "manifest")), str(data["sha256"]))
    return out


def changes(old_files: Iterable[InputFile | Mapping[str, Any]], old: RunSources | None,
            new_files: Iterable[InputFile | Mapping[str, Any]], new: RunSources) -> list[str]:
    """What differs between what an earlier run read and what a new one would, one line each.

    ``old`` is None for a run that recorded no sources (stored before they were): its profile
    and knowledge base count as changed. Empty when nothing differs.
    """
    before, after = _by_path(old_files), _by_path(new_files)
    lines: list[str] = []
    for path in sorted(before.keys() | after.keys()):
        if path not in before:
            lines.append(f"{_ROLES.get(after[path][0], 'input')} added: {path}")
        elif path not in after:
            lines.append(f"{_ROLES.get(before[path][0], 'input')} removed: {path}")
        elif before[path] != after[path]:
            lines.append(f"{_ROLES.get(after[path][0], 'input')} changed: {path}")
    if old is None:
        lines.append("profile and knowledge base: not recorded for the earlier run")
        return lines
    if old.profile_sha256 != new.profile_sha256:
        lines.append("profile " + ("added" if old.profile_sha256 is None else "removed"
                                   if new.profile_sha256 is None else "changed"))
    if old.kb_digest != new.kb_digest:
        lines.append("knowledge base changed")
    return lines
