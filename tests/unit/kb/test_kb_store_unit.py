"""Named queries and principals (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.store import Principal, check_collection_name, queries
from workflow.errors import ConfigError
from workflow.settings import Settings


def test_every_query_the_code_uses_is_defined() -> None:
    """queries.sql defines each statement name the store refers to, without comments."""
    named = queries()
    for name in ("reader_setup", "search", "chunk_insert", "chunks_copy",
                 "collections_visible", "chunks_by_anchor", "document_update"):
        assert name in named
        assert "-- " not in named[name]
        assert not named[name].endswith(";")


def test_principal_from_settings_and_options(tmp_path: Path) -> None:
    """Options win over settings; groups are de-duplicated in order."""
    settings = Settings(home=tmp_path, user="env-user", groups=("a", "b"))
    assert Principal(user="env-user", groups=("a", "b")) == Principal.from_settings(settings)
    assert Principal(user="cli", groups=("x",)) == Principal.from_settings(
        settings, user="cli", groups=["x", "x"])


@pytest.mark.parametrize("group", ["a,b", "with space", "", "-dash-first"])
def test_bad_group_names_are_refused(group: str) -> None:
    """Group names that could break the groups setting are refused as ConfigError."""
    with pytest.raises(ConfigError, match="invalid principal"):
        Principal.of("u", [group])


@pytest.mark.parametrize("name", ["Upper", "has space", "", "x" * 64, "-lead"])
def test_bad_collection_names_are_refused(name: str) -> None:
    """Collection names are lower-case identifiers."""
    with pytest.raises(ConfigError, match="not valid"):
        check_collection_name(name)
