"""Shared fixtures of the rule tests: a private KTMB home and a loader for manifests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from workflow.inputs import load_inputs
from workflow.inventory import Inventory
from workflow.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings with a throw-away KTMB home (redaction key)."""
    return Settings(home=tmp_path_factory.mktemp("ktmb-home"))


@pytest.fixture(scope="session")
def load(settings: Settings) -> Callable[..., Inventory]:
    """Load manifest paths into an inventory through the real input pipeline."""

    def _load(*paths: Path) -> Inventory:
        return load_inputs(list(paths), settings=settings).inventory

    return _load
