"""A regular (non-editable) install has everything ktmb reads at run time.

The wheel is built from this tree without network (``--no-build-isolation``) and its file list
checked: data files outside the Python modules are easy to lose from a wheel, and an editable
install, which the tests use, would never notice.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_wheel_ships_runtime_data_and_the_entry_point(tmp_path: Path) -> None:
    """Migrations, prompts, schema, knowledge-base corpus, vendored pgvector, console script."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", str(REPO), "-w", str(tmp_path)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("ktmb-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names
                            if n.endswith(".dist-info/entry_points.txt"))
    expected = {
        "workflow/vendor/pgvector/pgvector_0.8.0.orig.tar.gz",
        "workflow/vendor/pgvector/LICENSE",
        "workflow/domain/threat_model.schema.json",
        "workflow/queries.sql",
        "workflow/db.sql",
        "workflow/queue.sql",
        "workflow/llm_cache.sql",
        "kb/queries.sql",
    }
    assert set() == expected - names
    for folder, suffix in (("migrations/", ".sql"), ("prompts/", ".md"),
                           ("kb/corpus/", ".md")):
        assert any(n.startswith(folder) and n.endswith(suffix) for n in names), folder
    assert "ktmb = workflow.cli:main" in entry_points
