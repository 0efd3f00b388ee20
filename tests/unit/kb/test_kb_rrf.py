"""Reciprocal rank fusion maths and query term extraction."""

from __future__ import annotations

import pytest

from kb.retrieval import RRF_K, identifier_terms, rrf_fuse


def test_rrf_scores_are_sums_of_reciprocal_ranks() -> None:
    """An item ranked 1st and 3rd scores 1/61 + 1/63."""
    fused = dict(rrf_fuse([[10, 20, 30], [20, 40, 10]]))
    assert pytest.approx(1 / 61 + 1 / 63) == fused[10]
    assert pytest.approx(1 / 62 + 1 / 61) == fused[20]
    assert pytest.approx(1 / 63) == fused[30]
    assert pytest.approx(1 / 62) == fused[40]


def test_rrf_prefers_agreement_over_a_single_first_place() -> None:
    """Second in both lists beats first in only one list."""
    order = [item for item, _ in rrf_fuse([[1, 2, 3], [4, 2, 5]])]
    assert 2 == order[0]


def test_rrf_constant_is_sixty() -> None:
    """The fusion constant is the usual k=60."""
    assert 60 == RRF_K


def test_rrf_ties_break_by_id() -> None:
    """Equal scores are ordered by id so results are deterministic."""
    assert [1, 2] == [item for item, _ in rrf_fuse([[2], [1]])]


@pytest.mark.parametrize(("query", "expected"), [
    ("What is MITRE technique T1611?", "T1611"),
    ("pods with hostPath and hostNetwork", "hostPath hostNetwork"),
    ("CIS 5.2.2 privileged", "5.2.2"),
    ("mounts /var/run/docker.sock", "/var/run/docker.sock"),
    ("why drop CAP_SYS_ADMIN", "CAP_SYS_ADMIN"),
    ("is MS-TA9018 the same as T1610", "MS-TA9018 T1610"),
])
def test_identifier_terms(query: str, expected: str) -> None:
    """Identifier-like tokens are extracted for the 'simple' text leg."""
    assert expected == identifier_terms(query)


def test_plain_question_has_no_identifiers() -> None:
    """A question in plain words yields no identifier terms."""
    assert None is identifier_terms("should pods run as root")
