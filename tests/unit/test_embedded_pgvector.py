"""The portable-pgvector guard: when it builds, and that the built library works."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflow.embedded_pgvector import cpu_has_avx512, needs_portable_build

AVX512 = "processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2 avx512f avx512dq\n"
NO_AVX512 = "processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2 fma\n"


def test_cpu_flags_are_read_from_cpuinfo():
    """avx512f in the flags line means AVX-512; its absence means none."""
    assert cpu_has_avx512(AVX512) is True
    assert cpu_has_avx512(NO_AVX512) is False


def _fake_install(tmp_path: Path) -> Path:
    libdir = tmp_path / "lib" / "postgresql"
    libdir.mkdir(parents=True)
    (libdir / "vector.so").write_bytes(b"original library")
    return tmp_path


def test_a_cpu_with_avx512_needs_no_build(tmp_path):
    """The wheel's library is kept on a CPU with AVX-512."""
    assert needs_portable_build(_fake_install(tmp_path), cpuinfo=AVX512) is False


def test_a_cpu_without_avx512_needs_a_build_until_the_marker_matches(tmp_path):
    """Without AVX-512 a build is needed until the marker records the installed library."""
    root = _fake_install(tmp_path)
    assert needs_portable_build(root, cpuinfo=NO_AVX512) is True
    import hashlib

    digest = hashlib.sha256(b"original library").hexdigest()
    (root / "lib" / "postgresql" / "vector.so.ktmb-portable").write_text(digest + "\n")
    assert needs_portable_build(root, cpuinfo=NO_AVX512) is False
    (root / "lib" / "postgresql" / "vector.so").write_bytes(b"replaced by a reinstall")
    assert needs_portable_build(root, cpuinfo=NO_AVX512) is True


@pytest.mark.integration
def test_vectors_of_384_dimensions_work_on_the_embedded_server(fresh_database_url):
    """The embedded server computes distances and builds an HNSW index on 384-d vectors."""
    import psycopg

    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("CREATE TABLE v (id int, e vector(384))")
        conn.execute("INSERT INTO v SELECT g, (SELECT array_agg(((g * i) % 7)::float4 + 1) "
                     "FROM generate_series(1, 384) i)::vector(384) FROM generate_series(1, 50) g")
        conn.execute("CREATE INDEX ON v USING hnsw (e vector_cosine_ops)")
        row = conn.execute("SELECT id FROM v ORDER BY e <=> (SELECT e FROM v WHERE id = 3) "
                           "LIMIT 1").fetchone()
    assert row is not None
    assert 3 == row[0]
