"""Server-side paths: a file swapped for a symbolic link after the check is never read.

A thread swaps a checked manifest inside ``KTMB_SERVER_PATHS`` for a symbolic link to a file
outside them, and back, as fast as it can, while runs are started on the directory and on the
file itself. Every start either reads the file that is inside or is refused; none may read the
file outside (checked on the stored inputs of every accepted run, and on what the loader read).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.security.probes import ALICE, auth
from workflow.api.run_inputs import load_server_paths
from workflow.domain.errors import KtmbError
from workflow.domain.settings import Settings

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
"""
INSIDE = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: inside, namespace: shop}\n"
OUTSIDE = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: outside-secret, namespace: shop}\n"
           "data: {note: read from outside KTMB_SERVER_PATHS}\n")
OUTSIDE_SHA = hashlib.sha256(OUTSIDE.encode()).hexdigest()


@dataclass(frozen=True)
class Layout:
    """The allowed root, the application in it, its swapped file and the file outside."""

    root: Path
    app: Path
    swapped: Path
    outside: Path


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    """An application inside the allowed root and a manifest outside it."""
    root = tmp_path / "allowed"
    app = root / "shop"
    app.mkdir(parents=True)
    (app / "deployment.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    (app / "config.yaml").write_text(INSIDE, encoding="utf-8")
    outside = tmp_path / "outside" / "config.yaml"
    outside.parent.mkdir()
    outside.write_text(OUTSIDE, encoding="utf-8")
    return Layout(root=root, app=app, swapped=app / "config.yaml", outside=outside)


def _swap_file(layout: Layout) -> None:
    """The checked file becomes a link to the outside file, then a file again."""
    link, copy = layout.app / ".link.tmp", layout.app / ".copy.tmp"
    link.unlink(missing_ok=True)
    link.symlink_to(layout.outside)
    os.replace(link, layout.swapped)
    time.sleep(0.0002)
    copy.write_text(INSIDE, encoding="utf-8")
    os.replace(copy, layout.swapped)
    time.sleep(0.0002)


def _swap_directory(layout: Layout) -> None:
    """The checked directory becomes a link to the outside one, then the directory again."""
    aside = layout.root / ".shop.aside"
    os.rename(layout.app, aside)
    layout.app.symlink_to(layout.outside.parent, target_is_directory=True)
    time.sleep(0.0002)
    layout.app.unlink()
    os.rename(aside, layout.app)
    time.sleep(0.0002)


@contextmanager
def swapping(layout: Layout, swap_once: Callable[[Layout], None] = _swap_file,
             ) -> Iterator[list[int]]:
    """Swap what was checked for a link outside and back until the block ends."""
    stop = threading.Event()
    swaps = [0]

    def swap() -> None:
        while not stop.is_set():
            swap_once(layout)
            swaps[0] += 1

    thread = threading.Thread(target=swap, daemon=True)
    thread.start()
    try:
        yield swaps
    finally:
        stop.set()
        thread.join(10)


@pytest.mark.parametrize("swap_once", [_swap_file, _swap_directory])
def test_loader_never_reads_a_swapped_in_link(layout: Layout, offline_settings: Settings,
                                              swap_once: Callable[[Layout], None]) -> None:
    """Loading the directory or the file while either is swapped never reads outside."""
    read_outside, accepted, refused = 0, 0, 0
    crashed: list[str] = []
    with swapping(layout, swap_once) as swaps:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline or accepted < 50:
            for paths in ([str(layout.app)], [str(layout.swapped)]):
                try:
                    loaded = load_server_paths(paths, [], settings=offline_settings,
                                               server_paths=(layout.root,))
                except KtmbError:
                    refused += 1
                    continue
                except Exception as exc:  # what the service would answer with a 500
                    crashed.append(f"{type(exc).__name__}: {exc}")
                    continue
                accepted += 1
                names = {r.name for r in loaded.inputs.resources}
                shas = {f.sha256 for f in loaded.inputs.files}
                read_outside += "outside-secret" in names or OUTSIDE_SHA in shas
    assert swaps[0] > 100, swaps[0]
    assert (0, []) == (read_outside, crashed[:3]), (
        f"{read_outside} of {accepted} accepted loads read outside; {len(crashed)} crashed; "
        f"{refused} refused")


@pytest.mark.e2e
@pytest.mark.slow
def test_runs_never_store_a_swapped_in_link(layout: Layout,
                                            make_client: Callable[..., TestClient]) -> None:
    """Runs started over HTTP while the file is swapped never store the outside file."""
    client = make_client(server_paths=(layout.root,))
    service = client.app.state.service  # type: ignore[attr-defined]
    started: list[str] = []
    refused = 0
    with swapping(layout):
        for index in range(300):
            if len(started) >= 30:
                break
            target = layout.app if index % 2 == 0 else layout.swapped
            response = client.post("/runs/from-path", headers=auth(ALICE), json={
                "paths": [str(target)], "approval": "architecture"})
            if response.status_code == 202:
                started.append(response.json()["run_id"])
            else:
                assert response.status_code in {403, 400}, response.text
                refused += 1
    assert started, f"every start was refused ({refused})"
    stored = {run_id: {f["sha256"] for f in service.runs.info(run_id).inputs}
              for run_id in started}
    leaked = [run_id for run_id, shas in stored.items() if OUTSIDE_SHA in shas]
    assert [] == leaked, f"{len(leaked)} of {len(started)} accepted runs read outside"
