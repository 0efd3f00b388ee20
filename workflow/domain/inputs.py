"""Load manifests and notes safely: limits first, then parse, redact, and build the inventory.

:func:`load_inputs` reads paths; :func:`load_named_inputs` takes contents someone else has already
read (uploads, files read through descriptors inside allowed directories), so what is checked is
what is loaded. Accepted: files, directories (recursive: .yaml, .yml, .json), standard input
(``-``), Helm charts and kustomize directories (rendered first:
:mod:`workflow.domain.input_sources`); multi-document YAML, JSON, ``kind: List`` and ``*List``
kinds, Helm and kustomize output. CRDs and unknown kinds are kept (not analysed). With a Kubernetes
version, objects are validated against its OpenAPI schemas, and an invalid one is reported (a
warning with its file and line) and left out. Every problem is an :class:`InventoryError` naming the
file, and the line where the parser knows it. YAML bombs, deep nesting, huge and binary files are
refused before anything is built from them (:mod:`workflow.domain.safe_yaml`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from workflow.domain.errors import ConfigError, InventoryError
from workflow.domain.input_loader import InputLoader
from workflow.domain.input_sources import SourceKind, input_sources
from workflow.domain.loaded_inputs import LoadedInputs, Notes
from workflow.domain.named_input import NamedInput
from workflow.domain.renderers import RenderOptions
from workflow.domain.renderers.helm_charts import render_chart
from workflow.domain.renderers.kustomize import render_kustomization
from workflow.domain.safe_yaml import Limits, read_file, read_stream
from workflow.domain.settings import Settings
from workflow.domain.side_files import siblings

__all__ = ["LoadedInputs", "NamedInput", "Notes", "load_inputs", "load_named_inputs"]


def load_inputs(paths: Sequence[str | Path], *, settings: Settings,
                architecture: Iterable[str | Path] = (), stdin: BinaryIO | None = None,
                base: Path | None = None, namespace: str | None = None,
                profile: str | Path | None = None, suppressions: str | Path | None = None,
                skip_other_files: bool = False,
                render: RenderOptions | None = None) -> LoadedInputs:
    """Load, check, redact and index the inputs of one application.

    Args:
        paths: files, directories, Helm charts, kustomize directories or ``-`` for standard
            input (:mod:`workflow.domain.input_sources`).
        settings: limits and the redaction key's home.
        architecture: Markdown or text notes about the architecture or a security review.
        stdin: where ``-`` reads from (standard input by default).
        base: paths in the output are relative to this directory when below it.
        namespace: the namespace of objects that name none (``kubectl apply -n``); default
            ``default``. ServiceAccount subjects without one are resolved there too.
        profile: the application profile; by default a ``ktmb.yaml`` found in a manifest
            directory or beside a manifest file (:mod:`workflow.domain.side_files`).
        suppressions: the suppressions file; by default ``ktmb-suppressions.yaml`` found the
            same way.
        skip_other_files: a named file that holds no Kubernetes objects is skipped with a
            warning, as a file found in a directory is (a pre-commit hook names every staged
            YAML file), instead of refused.

        render: Helm values and the Kubernetes version to render and validate for.

    Raises:
        InventoryError: an input is unusable; the message names the file (and line).
        NoManifestsError: no input holds a Kubernetes object.
        ConfigError: a rendering option is unusable (values given but no chart to use them).
    """
    if not paths:
        raise InventoryError("(no input)", "give at least one manifest file or directory")
    limits = Limits.of(settings)
    render = render or RenderOptions()
    sources = input_sources(list(paths), limits)
    if render.for_charts and not any(s.kind is SourceKind.HELM_CHART for s in sources):
        raise ConfigError("--values and --set apply to Helm charts, and no input is a chart "
                          "(a directory with Chart.yaml and templates/, or a .tgz)")

    def manifests() -> Iterator[NamedInput]:  # read one at a time, as they are loaded
        if profile is not None:
            yield NamedInput(_label(Path(profile), base), read_file(Path(profile), limits),
                             role="profile")
        if suppressions is not None:
            yield NamedInput(_label(Path(suppressions), base),
                             read_file(Path(suppressions), limits), role="suppressions")
        for sibling in siblings(paths):
            yield NamedInput(_label(sibling, base), read_file(sibling, limits), explicit=False)
        for source in sources:
            path = source.path
            label = _label(path, base)
            if path is None:
                yield NamedInput(label, read_stream(stdin or sys.stdin.buffer, label, limits),
                                 role="stdin")
            elif source.kind is SourceKind.HELM_CHART:
                yield from render_chart(path, label, render, limits)
            elif source.kind is SourceKind.KUSTOMIZATION:
                yield from render_kustomization(path, label, limits)
            else:
                yield NamedInput(label, read_file(path, limits),
                                 source.explicit and not skip_other_files)

    def notes() -> Iterator[NamedInput]:
        for note_path in architecture:
            path = Path(note_path)
            label = _label(path, base)
            if not path.is_file():
                raise InventoryError(label, "no such notes file")
            yield NamedInput(label, read_file(path, limits))

    named = ", ".join("<stdin>" if str(p) == "-" else str(p) for p in paths)
    return _load(manifests(), notes(), settings=settings, named=named, namespace=namespace,
                 kube_version=render.kube_version)


def load_named_inputs(manifests: Iterable[NamedInput], *, settings: Settings,
                      architecture: Iterable[NamedInput] = (),
                      namespace: str | None = None) -> LoadedInputs:
    """Load, check, redact and index inputs whose contents are already read.

    The contents are checked against the size limit here too; the iterables are consumed one
    item at a time, so they may read each input as it is needed. An item whose role is
    ``profile`` or ``suppressions`` is that file; one found in a directory (not ``explicit``)
    under a profile or suppressions file name is taken for one. ``namespace`` is as for
    :func:`load_inputs`.

    Raises:
        InventoryError: an input is unusable; the message names it (and the line).
    """
    return _load(manifests, architecture, settings=settings, named="", namespace=namespace)


def _load(manifests: Iterable[NamedInput], architecture: Iterable[NamedInput], *,
          settings: Settings, named: str, namespace: str | None = None,
          kube_version: str | None = None) -> LoadedInputs:
    loader = InputLoader(settings, namespace=namespace, kube_version=kube_version)
    for item in manifests:
        loader.add(item)
    loader.require_objects(named)
    for note in architecture:
        loader.add_notes(note)
    return loader.finish()


def _label(path: Path | None, base: Path | None) -> str:
    if path is None:
        return "<stdin>"
    if base is not None:
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            pass
    return str(path)
