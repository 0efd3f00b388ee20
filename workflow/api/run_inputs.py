"""The inputs of a run started through the API: uploaded files and server-side paths.

Uploaded files are written, under sanitised names (:func:`safe_file_name`), into a private
temporary directory that is removed once they are loaded (the run keeps its redacted snapshot);
a file over ``KTMB_MAX_FILE_BYTES`` is refused while it is written. Server-side paths are read
only inside ``KTMB_SERVER_PATHS`` (:func:`allowed_path`): a path outside them, or a directory
that leads to a file outside them, is refused with :class:`ForbiddenError`.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from workflow.domain.errors import ConfigError, InventoryError, NotFoundError, UserError
from workflow.domain.inputs import LoadedInputs, load_inputs
from workflow.domain.settings import Settings

__all__ = [
    "ForbiddenError",
    "StartInputs",
    "Upload",
    "allowed_path",
    "load_server_paths",
    "load_uploads",
    "safe_file_name",
]

_MANIFEST_SUFFIXES = {".yaml", ".yml", ".json"}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ForbiddenError(UserError):
    """Not allowed: a server-side path outside KTMB_SERVER_PATHS, or a group you are not in."""

    http_status = 403


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
                 settings: Settings, max_files: int) -> StartInputs:
    """Load uploaded manifests (and architecture notes) through a private temporary directory.

    Raises:
        InventoryError: no manifest, too many files, a file over the size limit, or inputs
            that cannot be loaded.
    """
    if not manifests:
        raise InventoryError("(upload)", "upload at least one manifest file")
    if len(manifests) + len(architecture) > max_files:
        raise InventoryError("(upload)", f"more than {max_files} files")
    workdir = Path(tempfile.mkdtemp(prefix="ktmb-upload-"))
    try:
        used: set[str] = set()
        files = [_save(u, workdir, i, used, ".yaml", settings.max_file_bytes)
                 for i, u in enumerate(manifests)]
        notes = [_save(u, workdir, i, used, ".md", settings.max_file_bytes)
                 for i, u in enumerate(architecture)]
        inputs = load_inputs(files, settings=settings, architecture=notes, base=workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    default_name = Path(manifests[0].filename or "app").stem or "app"
    return StartInputs(inputs=inputs, default_name=default_name)


def load_server_paths(paths: Sequence[str], architecture: Sequence[str], *, settings: Settings,
                      server_paths: Sequence[Path]) -> StartInputs:
    """Load server-side files (and architecture notes) inside ``server_paths``.

    Raises:
        ForbiddenError: a path (or a file a directory leads to) is outside them.
    """
    checked = [allowed_path(p, server_paths) for p in paths]
    notes = [allowed_path(p, server_paths) for p in architecture]
    base = checked[0] if checked[0].is_dir() else checked[0].parent
    inputs = load_inputs(checked, settings=settings, architecture=notes, base=base)
    return StartInputs(inputs=inputs, default_name=checked[0].stem or "app")


def _save(upload: Upload, workdir: Path, index: int, used: set[str], suffix: str,
          limit: int) -> Path:
    name = safe_file_name(upload.filename, index, used, default_suffix=suffix)
    target = workdir / name
    written = 0
    with target.open("xb") as out:
        while chunk := upload.stream.read(1 << 16):
            written += len(chunk)
            if written > limit:
                raise InventoryError(name, f"file is over the limit of {limit:,} bytes "
                                     "(KTMB_MAX_FILE_BYTES)")
            out.write(chunk)
    return target


def allowed_path(raw: str, server_paths: Sequence[Path]) -> Path:
    """The resolved server-side path, if it and every file it leads to are inside the roots.

    Raises:
        ConfigError: an empty, invalid or relative path.
        ForbiddenError: no roots are configured, or the path leads outside them.
        NotFoundError: the path does not exist.
    """
    if not raw or "\0" in raw:
        raise ConfigError("empty or invalid path")
    path = Path(raw)
    if not path.is_absolute():
        raise ConfigError(f"{raw[:200]}: give an absolute server-side path")
    roots = [r.resolve() for r in server_paths]
    if not roots:
        raise ForbiddenError("reading server-side paths is switched off "
                             "(KTMB_SERVER_PATHS is not set)")
    real = path.resolve()
    if not _inside(real, roots):
        raise ForbiddenError(f"{raw[:200]} is outside the directories this server "
                             "may read (KTMB_SERVER_PATHS)")
    if not real.exists():
        raise NotFoundError(f"{raw[:200]}: no such file or directory")
    if real.is_dir():
        for item in real.rglob("*"):
            if item.is_file() and not _inside(item.resolve(), roots):
                raise ForbiddenError(
                    f"{raw[:200]} leads to a file outside KTMB_SERVER_PATHS "
                    f"({item.relative_to(real)})")
    return real


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)
