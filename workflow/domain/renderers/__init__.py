"""Inputs that are rendered before they are read: Helm charts, kustomize directories.

:class:`RenderOptions` is what the command line says about rendering (``--values``, ``--set``,
``--kube-version``); :mod:`.input_sources` decides what each path is. Each renderer returns
:class:`~workflow.domain.named_input.NamedInput` items labelled with the source file of what
they hold, so findings point at the chart's template or the kustomization's resource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from workflow.domain.errors import ConfigError

__all__ = ["RenderOptions", "kube_version"]

_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.\d+)?")


def kube_version(text: str) -> str:
    """A Kubernetes version as ``MAJOR.MINOR`` (``1.33``, ``v1.33`` and ``1.33.2`` alike).

    Raises:
        ConfigError: not a version.
    """
    match = _VERSION.fullmatch(text.strip())
    if match is None:
        raise ConfigError(f"--kube-version must look like 1.33, got {text!r}")
    return f"{int(match[1])}.{int(match[2])}"


@dataclass(frozen=True)
class RenderOptions:
    """How charts are rendered and objects validated (``--values``, ``--set``, ``--kube-version``).

    ``values`` are Helm values files, merged in order, then ``set_values`` (``KEY=VALUE``
    expressions, Helm's ``--set`` syntax). ``kube_version`` (``MAJOR.MINOR``) is the version
    charts render for (``.Capabilities.KubeVersion``), and, when given, the version whose
    OpenAPI schemas every object is validated against.
    """

    values: tuple[Path, ...] = ()
    set_values: tuple[str, ...] = ()
    kube_version: str | None = None

    @property
    def for_charts(self) -> bool:
        """True when values were given (they apply to Helm charts only)."""
        return bool(self.values or self.set_values)
