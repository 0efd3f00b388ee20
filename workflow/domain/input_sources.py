"""What each path given as input is: a file, standard input, a Helm chart or a kustomize dir.

A chart is a directory or a ``.tgz``. A directory is a chart when it has a ``Chart.yaml`` beside
``templates/`` or ``charts/``, and a kustomize directory when it has a ``kustomization.yaml``. Any
other directory is walked (``.yaml``, ``.yml``, ``.json``; hidden entries skipped): the charts in it
are rendered, not walked; the files of its kustomize directories are never read as plain files, and
those directories are rendered unless another kustomization of the tree uses them (a base is
rendered through its overlays).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from workflow.domain.errors import InventoryError
from workflow.domain.renderers.helm_charts import is_chart_archive, is_chart_dir
from workflow.domain.renderers.kustomize import kustomization_file, local_tree
from workflow.domain.safe_yaml import Limits

__all__ = ["MANIFEST_SUFFIXES", "InputSource", "SourceKind", "input_sources"]

MANIFEST_SUFFIXES = frozenset({".yaml", ".yml", ".json"})


class SourceKind(StrEnum):
    """How an input is read."""

    FILE = "file"
    STDIN = "stdin"
    HELM_CHART = "helm chart"
    KUSTOMIZATION = "kustomization"


@dataclass(frozen=True)
class InputSource:
    """One input: its path (None for standard input), its kind, and whether it was named."""

    path: Path | None
    kind: SourceKind
    explicit: bool = True


def input_sources(paths: list[str | Path], limits: Limits) -> list[InputSource]:
    """The inputs the paths stand for, in order.

    Raises:
        InventoryError: a path does not exist, or a kustomization in a tree is unreadable.
    """
    out: list[InputSource] = []
    for raw in paths:
        if str(raw) == "-":
            out.append(InputSource(None, SourceKind.STDIN))
            continue
        path = Path(raw)
        if path.is_dir():
            if is_chart_dir(path):
                out.append(InputSource(path, SourceKind.HELM_CHART))
            elif kustomization_file(path) is not None:
                out.append(InputSource(path, SourceKind.KUSTOMIZATION))
            else:
                out.extend(_walk(path, limits))
        elif path.exists():
            kind = SourceKind.HELM_CHART if is_chart_archive(path) else SourceKind.FILE
            out.append(InputSource(path, kind))
        else:
            raise InventoryError(str(path), "no such file or directory")
    return out


def _walk(top: Path, limits: Limits) -> list[InputSource]:
    """The files, charts and top kustomizations of a directory tree, sorted by path."""
    found: list[InputSource] = []
    kustomizations: list[Path] = []
    for folder, dirs, files in os.walk(top):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if here != top and is_chart_dir(here):
            found.append(InputSource(here, SourceKind.HELM_CHART, explicit=False))
            dirs[:] = []
            continue
        if kustomization_file(here) is not None:
            kustomizations.append(here)
            continue  # its files are its kustomization's to read
        found.extend(InputSource(here / name, SourceKind.FILE, explicit=False)
                     for name in files if not name.startswith(".")
                     and Path(name).suffix.lower() in MANIFEST_SUFFIXES
                     and (here / name).is_file())
    used: set[Path] = set()
    for kdir in kustomizations:
        used.update(k for k in local_tree(kdir, limits).kustomizations if k != kdir.resolve())
    found.extend(InputSource(kdir, SourceKind.KUSTOMIZATION, explicit=False)
                 for kdir in kustomizations if kdir.resolve() not in used)
    return sorted(found, key=lambda s: s.path or Path())
