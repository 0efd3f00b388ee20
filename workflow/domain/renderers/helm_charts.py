"""Helm charts rendered in-process and offline, each template's output named after the template.

The Helm Go SDK does the rendering (``helm-python-sdk``: a shared library reached through ctypes,
no ``helm`` binary, no cluster; ``lookup`` returns nothing). The release is named after the
chart, in namespace ``default``. Values come from ``--values`` files (read within the input
limits, merged in order) and ``--set`` expressions (Helm's syntax), over the chart's defaults.
Each rendered template becomes one input labelled with the template's path
(``CHART_DIR/templates/deployment.yaml``, or ``CHART.tgz!/templates/...`` for a packaged chart)
with lines placed back in the template (:mod:`.source_lines`).

A chart whose symbolic links lead out of its directory is refused: Helm reads what they point
to, so a template could put any file of the machine into the output. A rendering error names
the template and line Helm reports; the values given never appear in it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from workflow.domain.errors import ConfigError, InventoryError
from workflow.domain.named_input import NamedInput
from workflow.domain.renderers import RenderOptions
from workflow.domain.renderers.source_lines import template_line_map
from workflow.domain.safe_yaml import Limits, decode, parse_documents, read_file

__all__ = ["is_chart_archive", "is_chart_dir", "merge_values", "render_chart"]

_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
#: Where Helm says a template failed: ``(chart/templates/x.yaml:12:3)``.
_WHERE = re.compile(r"\(?(?P<file>[\w.-]+/[^\s:()]+):(?P<line>\d+)(?::\d+)?\)?:?\s*")


def is_chart_dir(path: Path) -> bool:
    """True for a chart directory: a ``Chart.yaml`` beside ``templates/`` or ``charts/``."""
    return (path / "Chart.yaml").is_file() and (
        (path / "templates").is_dir() or (path / "charts").is_dir())


def is_chart_archive(path: Path) -> bool:
    """True for a packaged chart (``.tgz``)."""
    return path.name.endswith((".tgz", ".tar.gz"))


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's merge of values: maps merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = value
    return out


def _values(options: RenderOptions, limits: Limits, helm: Any) -> dict[str, Any]:
    """The ``--values`` files and ``--set`` expressions, merged in order."""
    values: dict[str, Any] = {}
    for path in options.values:
        label = str(path)
        if not path.is_file():
            raise ConfigError(f"--values {label}: no such file")
        docs = parse_documents(label, decode(label, read_file(path, limits)), limits)
        body = docs[0].body if docs else {}
        if not isinstance(body, dict):
            raise InventoryError(label, "Helm values must be a mapping",
                                 line=docs[0].line if docs else None)
        values = merge_values(values, body)
    for expression in options.set_values:
        try:
            values = merge_values(values, helm.parse_set_string(expression))
        except helm.HelmError as exc:
            raise ConfigError(f"--set {expression.split('=', 1)[0]!r}: "
                              f"{_first_line(str(exc))}") from None
    return values


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else "failed"


def _strings(value: Any) -> set[str]:
    """Every string (and number) among the values, to keep out of error messages."""
    if isinstance(value, dict):
        return {s for v in value.values() for s in _strings(v)}
    if isinstance(value, list):
        return {s for v in value for s in _strings(v)}
    if isinstance(value, bool) or value is None:
        return set()
    return {str(value)}


def _outside_links(root: Path) -> Path | None:
    """The first symbolic link under ``root`` that leads out of it, if any."""
    top = root.resolve()
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            entry = Path(folder) / name
            if entry.is_symlink():
                target = entry.resolve()
                if target != top and top not in target.parents:
                    return entry
    return None


def _problem(exc: Exception, values: dict[str, Any], chart_name: str,
             label: str) -> InventoryError:
    """A Helm error as an input error on the template and line Helm names, values masked."""
    text = _first_line(str(exc))
    for value in sorted(_strings(values), key=len, reverse=True):
        if len(value) >= 3:
            text = text.replace(value, "«value»")
    where = _WHERE.search(text)
    if where and where["file"].startswith(f"{chart_name}/"):
        rest = (text[:where.start()] + " " + text[where.end():]).strip(" :")
        rest = rest.replace("execution error at", "").strip(" :") or "cannot render"
        return InventoryError(_in_chart(label, where["file"].split("/", 1)[1]),
                              f"cannot render the Helm chart: {rest}", line=int(where["line"]))
    return InventoryError(label, f"cannot render the Helm chart: {text}")


def _in_chart(label: str, rel: str) -> str:
    """The label of a file inside the chart."""
    return f"{label}!/{rel}" if is_chart_archive(Path(label)) else f"{label}/{rel}"


def render_chart(path: Path, label: str, options: RenderOptions,
                 limits: Limits) -> list[NamedInput]:
    """The rendered templates of the chart at ``path`` (a directory or a ``.tgz``).

    Raises:
        InventoryError: the chart cannot be loaded or rendered, or renders nothing.
        ConfigError: a ``--values`` file or ``--set`` expression is unusable.
    """
    if path.is_dir() and (link := _outside_links(path)) is not None:
        raise InventoryError(str(link), "a symbolic link out of the Helm chart; the chart is "
                             "not rendered")
    try:
        import helm_python as helm  # the Helm SDK (a 75 MB native library) loads for a chart
    except ImportError:
        raise ConfigError(f"{label}: a Helm chart; rendering it needs the Helm SDK: "
                          "pip install 'ktmb[helm]' (or render it and pipe the output: "
                          f"helm template {label} | ktmb scan -)") from None
    values = _values(options, limits, helm)
    name = path.name
    try:
        with helm.Chart.load(str(path)) as chart:
            name = chart.name
            templates = {f"{name}/{t['name']}": t["data"] for t in chart.templates}
            rendered = _render(helm, chart, values, options.kube_version)
    except helm.HelmError as exc:
        raise _problem(exc, values, name, label) from None
    out: list[NamedInput] = []
    for key in sorted(rendered):
        text = rendered[key]
        if not key.endswith(_MANIFEST_SUFFIXES) or not text.strip():
            continue  # NOTES.txt, partials, templates that render to nothing
        rel = key.split("/", 1)[1]
        template = templates.get(key)
        if template is None and path.is_dir() and (path / rel).is_file():
            template = (path / rel).read_text(encoding="utf-8", errors="replace")  # subchart
        out.append(NamedInput(_in_chart(label, rel), text.encode("utf-8"),
                              line_map=template_line_map(text, template)))
    if not out:
        raise InventoryError(label, "the Helm chart renders no manifests with these values")
    return out


def _render(helm: Any, chart: Any, values: dict[str, Any],
            kube_version: str | None) -> dict[str, str]:
    """The chart's templates rendered (template path -> text)."""
    if kube_version is None:
        rendered: dict[str, str] = chart.render(values, name=chart.name, namespace="default")
        return rendered
    # Chart.render (helm-python-sdk 0.2.2) has no parameter for the Kubernetes version; the
    # library's render call it wraps takes it in the same options object as name and namespace.
    from helm_python import _native  # the call Chart.render makes, with one option more

    options = {"name": chart.name, "namespace": "default", "kube_version": f"v{kube_version}.0"}
    raw = _native.call_string("helm_render", chart._raw(), json.dumps(values),
                              json.dumps(options))
    parsed: dict[str, str] = json.loads(raw)
    return parsed
