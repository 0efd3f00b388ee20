"""Files below ``KTMB_SERVER_PATHS``, read through descriptors: what is checked is what is read.

A path a client names is resolved once and must lie inside one of the roots
(:func:`allowed_path`). It is then opened from the root's directory descriptor one component at
a time with ``O_NOFOLLOW`` (and ``O_DIRECTORY`` on the way down), so a component swapped for a
symbolic link after the check makes the open fail instead of leading outside. A directory is
walked the same way, entry by entry from its own descriptor; a symbolic link met there is
resolved once, checked, and opened from its root likewise. Contents are read from the
descriptors, within ``KTMB_MAX_FILE_BYTES``, one file at a time as the loader asks for them.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

from workflow.domain.errors import ConfigError, InventoryError, NotFoundError, UserError
from workflow.domain.inputs import NamedInput
from workflow.domain.safe_yaml import Limits

__all__ = ["ForbiddenError", "ServerFiles", "allowed_path"]

_MANIFEST_SUFFIXES = {".yaml", ".yml", ".json"}
_MAX_DEPTH = 64
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO planted in a directory must not hang the request.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class ForbiddenError(UserError):
    """Not allowed: a server-side path outside KTMB_SERVER_PATHS, or a group you are not in."""

    http_status = 403


def _inside(path: Path, roots: Sequence[Path]) -> Path | None:
    """The root ``path`` lies in (the deepest one), or None."""
    found = [root for root in roots if path == root or path.is_relative_to(root)]
    return max(found, key=lambda root: len(root.parts)) if found else None


def _roots(server_paths: Sequence[Path]) -> list[Path]:
    roots = [r.resolve() for r in server_paths]
    if not roots:
        raise ForbiddenError("reading server-side paths is switched off "
                             "(KTMB_SERVER_PATHS is not set)")
    return roots


def allowed_path(raw: str, server_paths: Sequence[Path]) -> Path:
    """The resolved server-side path, if it exists inside the roots.

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
    roots = _roots(server_paths)
    try:
        real = path.resolve()
        exists = real.exists()
    except OSError as exc:  # a link changed while it was resolved, a loop, a long name
        raise ForbiddenError(f"{raw[:200]}: cannot be resolved ({exc.strerror or exc})"
                             ) from None
    if _inside(real, roots) is None:
        raise ForbiddenError(f"{raw[:200]} is outside the directories this server "
                             "may read (KTMB_SERVER_PATHS)")
    if not exists:
        raise NotFoundError(f"{raw[:200]}: no such file or directory")
    return real


class ServerFiles:
    """Reads checked paths inside the roots through ``O_NOFOLLOW`` descriptors."""

    def __init__(self, server_paths: Sequence[Path], limits: Limits, base: Path) -> None:
        self.roots = _roots(server_paths)
        self.limits = limits
        self.base = base

    def manifests(self, real: Path) -> Iterator[NamedInput]:
        """The manifest file at ``real``, or those of the directory at ``real``, in order.

        Raises:
            ForbiddenError: a path changed into a symbolic link after it was checked, or a
                directory leads outside the roots.
            InventoryError: a file is not a regular file, unreadable or over the size limit.
        """
        fd = self._open(real)
        try:
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                yield from self._walk(fd, real, PurePosixPath(), 0)
            else:
                yield NamedInput(self._label(real), self._read(fd, real))
        finally:
            os.close(fd)

    def note(self, real: Path) -> NamedInput:
        """The notes file at ``real``.

        Raises:
            ForbiddenError: the path changed into a symbolic link after it was checked.
            InventoryError: not a regular file, unreadable or over the size limit.
        """
        fd = self._open(real)
        try:
            return NamedInput(self._label(real), self._read(fd, real))
        finally:
            os.close(fd)

    def _label(self, real: Path) -> str:
        return str(real.relative_to(self.base)) if real.is_relative_to(self.base) else str(real)

    def _open(self, real: Path) -> int:
        """A descriptor of ``real``, reached from its root without following any link."""
        root = _inside(real, self.roots)
        if root is None:
            raise ForbiddenError(f"{real} is outside the directories this server may read "
                                 "(KTMB_SERVER_PATHS)")
        parts = real.relative_to(root).parts
        fd = self._at(None, str(root), real, _DIR_FLAGS)
        try:
            for index, part in enumerate(parts):
                flags = _FILE_FLAGS if index == len(parts) - 1 else _DIR_FLAGS
                child = self._at(fd, part, real, flags)
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd

    @staticmethod
    def _at(dir_fd: int | None, name: str, real: Path, flags: int) -> int:
        """``openat(dir_fd, name, flags)``, its failures as one-line errors about ``real``."""
        try:
            return os.open(name, flags, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno in {errno.ELOOP, errno.ENOTDIR, errno.EMLINK}:
                raise ForbiddenError(f"{real}: changed while it was read (a symbolic link "
                                     "where a checked file or directory was)") from None
            if exc.errno == errno.ENOENT:
                raise NotFoundError(f"{real}: no such file or directory") from None
            raise InventoryError(str(real), f"cannot read: {exc.strerror or exc}") from None

    def _walk(self, dir_fd: int, real: Path, relative: PurePosixPath,
              depth: int) -> Iterator[NamedInput]:
        """The manifests below a directory, sorted by path, hidden entries left out."""
        if depth > _MAX_DEPTH:
            raise InventoryError(str(real), f"directories nested more than {_MAX_DEPTH} deep")
        with os.scandir(dir_fd) as listing:  # the kinds come from the listing: nothing followed
            entries = sorted((e.name, e.is_dir(follow_symlinks=False), e.is_symlink(),
                              e.is_file(follow_symlinks=False))
                             for e in listing if not e.name.startswith("."))
        for name, is_dir, is_link, is_file in entries:
            path = real / name
            if is_dir:
                child = self._at(dir_fd, name, path, _DIR_FLAGS)
                try:
                    yield from self._walk(child, path, relative / name, depth + 1)
                finally:
                    os.close(child)
            elif Path(name).suffix.lower() not in _MANIFEST_SUFFIXES:
                continue
            elif is_link:
                item = self._linked(path, relative / name)
                if item is not None:
                    yield item
            elif is_file:
                fd = self._at(dir_fd, name, path, _FILE_FLAGS)
                try:
                    yield NamedInput(self._label(path), self._read(fd, path), False)
                finally:
                    os.close(fd)

    def _linked(self, path: Path, relative: PurePosixPath) -> NamedInput | None:
        """The file a symbolic link in a walked directory names, if it is inside the roots."""
        try:
            target = path.resolve()
            is_file = target.is_file()
        except OSError:
            return None  # a loop or a link that moved: not a file this walk can name
        if _inside(target, self.roots) is None:
            raise ForbiddenError(f"{path.parent} leads to a file outside KTMB_SERVER_PATHS "
                                 f"({relative})")
        if not is_file:
            return None  # a link to a directory or to nothing: not followed, like rglob
        fd = self._open(target)
        try:
            return NamedInput(self._label(target), self._read(fd, target), False)
        finally:
            os.close(fd)

    def _read(self, fd: int, real: Path) -> bytes:
        """The contents of an open regular file, within the size limit."""
        label = self._label(real)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InventoryError(label, "not a regular file")
        limit = self.limits.max_file_bytes
        if info.st_size > limit:
            raise InventoryError(label, f"file is {info.st_size:,} bytes, over the limit of "
                                 f"{limit:,} (KTMB_MAX_FILE_BYTES)")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise InventoryError(label, f"file is over the limit of {limit:,} bytes "
                                 "(KTMB_MAX_FILE_BYTES)")
        return b"".join(chunks)
