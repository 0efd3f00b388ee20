"""The inputs of a run started through the API: uploaded files and server-side paths.

Uploaded files are read from the request's spooled temporary files, each within
``KTMB_MAX_FILE_BYTES``, under sanitised names (:func:`safe_file_name`). Server-side paths are
read only inside ``KTMB_SERVER_PATHS``, through descriptors opened without following links
(:mod:`workflow.api.server_files`). Either way the loader gets the bytes that were read
(:func:`workflow.domain.inputs.load_named_inputs`), never a path to open again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import IO

from workflow.api.server_files import ServerFiles, allowed_path
from workflow.domain.errors import InventoryError
from workflow.domain.inputs import LoadedInputs, NamedInput, load_named_inputs
from workflow.domain.safe_yaml import Limits
from workflow.domain.settings import Settings
from workflow.domain.side_files import role_of

__all__ = [
    "StartInputs",
    "Upload",
    "load_server_paths",
    "load_uploads",
    "safe_file_name",
]

_MANIFEST_SUFFIXES = {".yaml", ".yml", ".json"}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Upload:
    """An uploaded file: the name the client gave (untrusted) and a binary stream."""

    filename: str | None
    stream: IO[bytes]


@dataclass(frozen=True)
class StartInputs:
    """The loaded inputs of a new run and the application name they suggest."""

    inputs: LoadedInputs
    default_name: str


def safe_file_name(raw: str | None, index: int, used: set[str], *,
                   default_suffix: str) -> str:
    """A harmless file name for an uploaded file: no directories, no dot-files, no oddities.

    Args:
        raw: the client's name (untrusted, may hold paths, ``..`` or control characters).
        index: position of the file in the upload, for a fallback name.
        used: names already taken in this upload (updated).
        default_suffix: suffix added when the name has none of the accepted ones.
    """
    base = PurePosixPath((raw or "").replace("\\", "/")).name
    name = _SAFE.sub("_", base).strip("._-")[:100] or f"upload-{index + 1}"
    if default_suffix == ".yaml" and Path(name).suffix.lower() not in _MANIFEST_SUFFIXES:
        name += default_suffix
    if default_suffix != ".yaml" and not Path(name).suffix:
        name += default_suffix
    candidate, n = name, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{Path(name).stem}-{n}{Path(name).suffix}"
    used.add(candidate.lower())
    return candidate


def load_uploads(manifests: Sequence[Upload], architecture: Sequence[Upload], *,
                 settings: Settings, max_files: int, profile: Upload | None = None,
                 suppressions: Upload | None = None) -> StartInputs:
    """Load uploaded manifests (and notes, profile, suppressions), each within the size limit.

    An uploaded manifest named ``ktmb.yaml`` is taken for the profile when none is uploaded
    as such (and ``ktmb-suppressions.yaml`` likewise), as in a manifest directory.

    Raises:
        InventoryError: no manifest, too many files, a file over the size limit, or inputs
            that cannot be loaded.
    """
    if not manifests:
        raise InventoryError("(upload)", "upload at least one manifest file")
    sides = [(u, role) for u, role in ((profile, "profile"), (suppressions, "suppressions"))
             if u is not None]
    if len(manifests) + len(architecture) + len(sides) > max_files:
        raise InventoryError("(upload)", f"more than {max_files} files")
    used: set[str] = set()
    side_names = [safe_file_name(u.filename, i, used, default_suffix=".yaml")
                  for i, (u, _) in enumerate(sides)]
    names = [safe_file_name(u.filename, i, used, default_suffix=".yaml")
             for i, u in enumerate(manifests)]
    note_names = [safe_file_name(u.filename, i, used, default_suffix=".md")
                  for i, u in enumerate(architecture)]
    limit = settings.max_file_bytes

    def read(uploads: Sequence[Upload], labels: list[str]) -> Iterator[NamedInput]:
        for upload, label in zip(uploads, labels, strict=True):
            yield NamedInput(label, _read_upload(upload, label, limit))

    def all_manifests() -> Iterator[NamedInput]:
        for (upload, role), label in zip(sides, side_names, strict=True):
            yield NamedInput(label, _read_upload(upload, label, limit),
                             role=role)  # type: ignore[arg-type]
        for item in read(manifests, names):  # a ktmb.yaml among them is found as in a folder
            yield replace(item, explicit=False) if role_of(item.label) else item

    inputs = load_named_inputs(all_manifests(), settings=settings,
                               architecture=read(architecture, note_names))
    default_name = Path(manifests[0].filename or "app").stem or "app"
    return StartInputs(inputs=inputs, default_name=default_name)


def load_server_paths(paths: Sequence[str], architecture: Sequence[str], *, settings: Settings,
                      server_paths: Sequence[Path], profile: str | None = None,
                      suppressions: str | None = None) -> StartInputs:
    """Load server-side files (and notes, profile, suppressions) inside ``server_paths``.

    Each path is resolved and checked once, then read through descriptors opened from its root
    without following links: a file swapped for a link after the check is refused, not read.
    A ``ktmb.yaml`` in a manifest directory is its profile unless ``profile`` names one.

    Raises:
        ForbiddenError: a path (or a file a directory leads to) is outside them, or changed into
            a symbolic link after it was checked.
    """
    checked = [allowed_path(p, server_paths) for p in paths]
    notes = [allowed_path(p, server_paths) for p in architecture]
    sides = [(allowed_path(p, server_paths), role)
             for p, role in ((profile, "profile"), (suppressions, "suppressions")) if p]
    base = checked[0] if checked[0].is_dir() else checked[0].parent  # output names only
    files = ServerFiles(server_paths, Limits.of(settings), base)

    def manifests() -> Iterator[NamedInput]:
        for real, role in sides:
            yield replace(files.note(real), role=role)  # type: ignore[arg-type]
        for real in checked:
            yield from files.manifests(real)

    inputs = load_named_inputs(manifests(), settings=settings,
                               architecture=(files.note(real) for real in notes))
    return StartInputs(inputs=inputs, default_name=checked[0].stem or "app")


def _read_upload(upload: Upload, label: str, limit: int) -> bytes:
    """An uploaded file's contents, refused once they pass ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while chunk := upload.stream.read(1 << 16):
        size += len(chunk)
        if size > limit:
            raise InventoryError(label, f"file is over the limit of {limit:,} bytes "
                                 "(KTMB_MAX_FILE_BYTES)")
        chunks.append(chunk)
    return b"".join(chunks)
