"""Reading server-side paths through descriptors: order, links, special files and limits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workflow.api.server_files import ForbiddenError, ServerFiles, allowed_path
from workflow.domain.errors import InventoryError
from workflow.domain.inputs import load_inputs
from workflow.domain.safe_yaml import Limits
from workflow.domain.settings import Settings

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n"


def _write(path: Path, name: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONFIGMAP.format(name=name), encoding="utf-8")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An allowed root with an application of nested, hidden and non-manifest files."""
    root = tmp_path / "root"
    app = root / "app"
    _write(app / "b.yaml", "b")
    _write(app / "a" / "z.yml", "az")
    _write(app / "a.json", "ajson")
    _write(app / ".hidden" / "h.yaml", "hidden")
    _write(app / "sub" / ".dot.yaml", "dot")
    (app / "README.md").write_text("# not a manifest\n", encoding="utf-8")
    return root


def _labels(root: Path, real: Path, limits: Limits, base: Path) -> list[str]:
    return [item.label for item in ServerFiles((root,), limits, base).manifests(real)]


def test_directory_order_and_names_match_load_inputs(root: Path,
                                                     offline_settings: Settings) -> None:
    """A directory yields the files load_inputs reads, in its order, under its names."""
    app = root / "app"
    limits = Limits.of(offline_settings)
    expected = [f.path for f in load_inputs([app], settings=offline_settings, base=app).files]
    assert ["a/z.yml", "a.json", "b.yaml"] == expected
    assert expected == _labels(root, app, limits, app)


def test_links_inside_are_read_as_their_targets(root: Path,
                                                offline_settings: Settings) -> None:
    """A link to a file inside the roots is read (named as its target); to a directory, not."""
    app = root / "app"
    _write(root / "shared" / "common.yaml", "common")
    (app / "common.yaml").symlink_to(root / "shared" / "common.yaml")
    (app / "shared.yaml").symlink_to(root / "shared", target_is_directory=True)
    (app / "dangling.yaml").symlink_to(root / "nowhere.yaml")
    labels = _labels(root, app, Limits.of(offline_settings), root)
    assert ["app/a/z.yml", "app/a.json", "app/b.yaml", "shared/common.yaml"] == labels


def test_link_outside_is_refused(root: Path, tmp_path: Path,
                                 offline_settings: Settings) -> None:
    """A directory with a link to a file outside the roots is refused, naming the link."""
    _write(tmp_path / "outside" / "secret.yaml", "secret")
    (root / "app" / "c.yaml").symlink_to(tmp_path / "outside" / "secret.yaml")
    with pytest.raises(ForbiddenError) as info:
        _labels(root, root / "app", Limits.of(offline_settings), root)
    assert f"{root / 'app'} leads to a file outside KTMB_SERVER_PATHS (c.yaml)" == str(
        info.value)


def test_checked_path_that_became_a_link_is_refused(root: Path, tmp_path: Path,
                                                    offline_settings: Settings) -> None:
    """A path checked as a file and then replaced by a link is refused, not followed."""
    _write(tmp_path / "outside" / "secret.yaml", "secret")
    real = allowed_path(str(root / "app" / "b.yaml"), (root,))
    (root / "app" / "b.yaml").unlink()
    (root / "app" / "b.yaml").symlink_to(tmp_path / "outside" / "secret.yaml")
    with pytest.raises(ForbiddenError) as info:
        list(ServerFiles((root,), Limits.of(offline_settings), root).manifests(real))
    assert "changed while it was read" in str(info.value)


def test_fifo_is_skipped_in_a_directory_and_refused_by_name(
        root: Path, offline_settings: Settings) -> None:
    """A FIFO named like a manifest never blocks: skipped in a directory, refused by name."""
    fifo = root / "app" / "pipe.yaml"
    os.mkfifo(fifo)
    limits = Limits.of(offline_settings)
    assert "pipe.yaml" not in _labels(root, root / "app", limits, root / "app")
    with pytest.raises(InventoryError) as info:
        _labels(root, fifo, limits, root / "app")
    assert "pipe.yaml: not a regular file" == str(info.value)


def test_size_limit_holds(root: Path, offline_settings: Settings) -> None:
    """A file over KTMB_MAX_FILE_BYTES is refused without reading past the limit."""
    limits = Limits.of(offline_settings.model_copy(update={"max_file_bytes": 20}))
    with pytest.raises(InventoryError) as info:
        _labels(root, root / "app" / "b.yaml", limits, root / "app")
    assert str(info.value).startswith("b.yaml: file is ")
    assert str(info.value).endswith("over the limit of 20 (KTMB_MAX_FILE_BYTES)")
