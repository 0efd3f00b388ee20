"""The reciprocal rank fusion constant and query term extraction."""

from __future__ import annotations

import pytest

from kb.retrieval import RRF_K, identifier_terms


def test_rrf_constant_is_sixty() -> None:
    """The fusion constant is the usual k=60."""
    assert 60 == RRF_K


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
