"""The export API: the format list, JSON round trip, determinism, unknown formats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import workflow.exports as exports
from workflow.domain.errors import ConfigError
from workflow.domain.threat_model import ThreatModel
from workflow.exports import FORMATS, export


def test_formats_are_the_documented_nine() -> None:
    """The formats the CLI and the API offer, in their listed order."""
    assert ("json", "sarif", "junit", "markdown", "html", "mermaid", "otm", "graph-json",
            "graphml") == FORMATS
    assert set(FORMATS) == set(exports.SUFFIXES) == set(exports.MEDIA_TYPES)


def test_public_names_are_pinned() -> None:
    """The package exports exactly its documented names."""
    assert ["FORMATS", "MEDIA_TYPES", "SUFFIXES", "Format", "export"] == exports.__all__


def test_json_round_trips(model: ThreatModel) -> None:
    """The JSON export is the model's own serialisation and reads back equal."""
    text = export(model, "json")
    assert model.model_dump_json(indent=2) + "\n" == text
    assert model == ThreatModel.model_validate_json(text)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_deterministic_text(
        fmt: Any, make_model: Callable[..., ThreatModel]) -> None:
    """Two exports of equal models are identical, non-empty, newline-terminated text."""
    first = export(make_model(), fmt)
    second = export(make_model(), fmt)
    assert first == second
    assert first.endswith("\n")
    assert first.strip()


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_handles_an_empty_model(fmt: Any, bare_model: ThreatModel) -> None:
    """A partial model with nothing in it yet still exports in every format."""
    assert export(bare_model, fmt).strip()


def test_unknown_format_is_a_user_error(model: ThreatModel) -> None:
    """An unknown format name raises ConfigError (exit 2), naming the choices."""
    with pytest.raises(ConfigError, match="unknown export format 'pdf'; choose one of json"):
        export(model, "pdf")  # type: ignore[arg-type]
