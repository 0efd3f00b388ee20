"""Fixtures of the security probes: API tokens and the HTTP service on the test database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.security.probes import ALICE, BOB
from workflow.api import ApiSettings, create_app
from workflow.domain.settings import Settings


@pytest.fixture(autouse=True)
def _no_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    """These probes exercise the service, not retrieval: keyword search only, no model load."""
    monkeypatch.setenv("KTMB_EMBEDDINGS", "off")


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    """A tokens file with two reviewers in different groups."""
    path = tmp_path / "tokens"
    path.write_text(f"{ALICE} alice payments,security\n{BOB} bob marketing\n",
                    encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def make_client(settings: Settings, tokens_file: Path
                ) -> Iterator[Callable[..., TestClient]]:
    """A factory of test clients of the service (ApiSettings overrides as keywords)."""
    clients: list[tuple[TestClient, Any]] = []

    def make(**overrides: Any) -> TestClient:
        api = ApiSettings(**{"tokens_file": tokens_file, **overrides})
        app = create_app(settings, api_settings=api)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append((client, app.state.service))
        return client

    yield make
    for client, service in clients:
        service.wait_idle(60)
        client.__exit__(None, None, None)
