"""``kb search`` of a collection the user may not read is a user error: one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.cli_process import ktmb

pytestmark = pytest.mark.e2e


def test_search_of_an_unreadable_collection_is_exit_2(cli_env: dict[str, str],
                                                       tmp_path: Path) -> None:
    """A collection of another group answers like one that does not exist: exit 2."""
    doc = tmp_path / "runbook.md"
    doc.write_text("# Payments runbook\n\nRotate the settlement token every quarter.\n",
                   encoding="utf-8")
    ingested = ktmb(cli_env, "kb", "ingest", doc, "--collection", "private", "--group", "sec")
    assert 0 == ingested.returncode, ingested.stderr
    found = ktmb(cli_env, "kb", "search", "settlement token", "--collection", "private",
                 "--group", "sec")
    assert (0, "[1] private/") == (found.returncode, found.stdout[:12]), found.stderr
    refused = ktmb(cli_env, "kb", "search", "settlement token", "--collection", "private",
                   "--group", "other")
    lines = refused.stderr.splitlines()
    assert (2, ["ktmb: error: no collection 'private' is readable by you"]) == (
        refused.returncode, [line for line in lines if line.startswith("ktmb:")])
    assert "" == refused.stdout
