"""Named queries and principals (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.store import Principal, check_collection_name, queries, text_query
from workflow.domain.errors import ConfigError
from workflow.domain.settings import Settings


def test_every_query_the_code_uses_is_defined() -> None:
    """queries.sql defines each statement name the store refers to, without comments."""
    named = queries()
    for name in ("reader_setup", "search", "search_text_ranks", "query_words", "chunk_insert",
                 "chunks_copy",
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


def test_text_query_ors_every_word_while_the_matches_stay_under_the_cap() -> None:
    """Small collections (or rare words) keep the plain OR of all words for both queries."""
    words = [("'pod'", 118), ("'privileg'", 40), ("'att' & 'ck'", 30)]
    every = "( 'pod' ) | ( 'privileg' ) | ( 'att' & 'ck' )"
    assert (every, every) == text_query(words, chunks=211, cap=250, pool=40)
    assert (every, every) == text_query(words, chunks=100_000, cap=250, pool=40)
    assert None is text_query([], chunks=10, cap=250, pool=40)


def test_text_query_takes_the_rarest_words_as_candidates_at_scale() -> None:
    """Over the cap, the candidates are the rarest words, ranked by all of them."""
    words = [("'pod'", 45_000), ("'steal'", 950), ("'token'", 200), ("'hostpid'", 30)]
    ranking = "( 'pod' ) | ( 'steal' ) | ( 'token' ) | ( 'hostpid' )"
    assert ("( 'hostpid' ) | ( 'token' )", ranking) == text_query(
        words, chunks=100_000, cap=250, pool=40)


def test_text_query_adds_a_conjunction_of_common_words_when_rare_ones_are_too_few() -> None:
    """Without enough rare matches, the most selective common words are AND-ed."""
    words = [("'run'", 40_000), ("'contain'", 45_000), ("'danger'", 2_000), ("'mode'", 3_000)]
    candidates, ranking = text_query(words, chunks=100_000, cap=250, pool=40) or ("", "")
    assert "( ( 'danger' ) & ( 'mode' ) )" == candidates
    assert ranking.startswith("( 'run' ) | ( 'contain' )")
    rare = [("'pod'", 45_000), ("'hostpid'", 10)]
    assert "( 'hostpid' ) | ( ( 'pod' ) )" == (text_query(rare, chunks=100_000, cap=250,
                                                          pool=40) or ("", ""))[0]
