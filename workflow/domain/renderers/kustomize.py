"""Kustomize directories: recognised by their ``kustomization.yaml``, rendered, never read raw.

Read as plain files, they would lose their patches, namespace and name prefixes. The renderer is
``kustomize build`` or ``kubectl kustomize``, whichever is on ``PATH`` (in that order); without one,
the directory is refused with the command to pipe instead. It runs offline: remote resources
(``github.com/...``, URLs) are refused before it starts, and its environment points every proxy at a
closed local port and lets git use local files only. Plugins and Helm inflation stay off (no
``--enable-*`` flag is passed).

Each rendered object is put back in the resource file that declares it (same kind, and a name
that the rendered one contains, to allow ``namePrefix``/``nameSuffix``): its label is that file
and its lines that document's (:func:`~.source_lines.document_line_map`). Generated objects
(``configMapGenerator``, ``secretGenerator``) are placed on the generator in the
kustomization file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow.domain.errors import InventoryError
from workflow.domain.named_input import NamedInput
from workflow.domain.renderers.source_lines import document_line_map
from workflow.domain.safe_yaml import Document, Limits, decode, parse_documents, read_file

__all__ = ["KUSTOMIZATION_FILES", "KustomizeTree", "kustomization_file", "local_tree",
           "render_kustomization", "renderer"]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
#: Seconds a rendering may take.
TIMEOUT = 120
_REFERENCES = ("resources", "bases", "components")
_GENERATED = {"ConfigMap": "/configMapGenerator", "Secret": "/secretGenerator"}
_REMOTE_PREFIXES = ("github.com/", "gitlab.com/", "bitbucket.org/", "git@", "git::", "ssh:")


def kustomization_file(folder: Path) -> Path | None:
    """The kustomization file of ``folder``, if it has one."""
    for name in KUSTOMIZATION_FILES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def renderer() -> list[str] | None:
    """The command that renders a kustomization (``kustomize build``, ``kubectl kustomize``)."""
    if (kustomize := shutil.which("kustomize")) is not None:
        return [kustomize, "build"]
    if (kubectl := shutil.which("kubectl")) is not None:
        return [kubectl, "kustomize"]
    return None


@dataclass
class KustomizeTree:
    """The local files a kustomization reads: kustomizations and resource files."""

    kustomizations: list[Path] = field(default_factory=list)
    resources: list[Path] = field(default_factory=list)
    #: The parsed kustomization file of the root.
    root_file: Path | None = None
    root_doc: Document | None = None


def _is_remote(entry: str) -> bool:
    return "://" in entry or entry.startswith(_REMOTE_PREFIXES) or "?ref=" in entry


def local_tree(root: Path, limits: Limits) -> KustomizeTree:
    """The kustomizations and resource files ``root`` reads, following local references.

    Raises:
        InventoryError: a kustomization is unreadable or names a remote resource.
    """
    tree = KustomizeTree()
    pending = [root.resolve()]
    seen: set[Path] = set()
    while pending:
        folder = pending.pop(0)
        if folder in seen:
            continue
        seen.add(folder)
        kfile = kustomization_file(folder)
        if kfile is None:
            continue
        tree.kustomizations.append(folder)
        docs = parse_documents(str(kfile), decode(str(kfile), read_file(kfile, limits)), limits)
        body = docs[0].body if docs else {}
        if folder == root.resolve():
            tree.root_file, tree.root_doc = kfile, docs[0] if docs else None
        if not isinstance(body, dict):
            raise InventoryError(str(kfile), "a kustomization must be a mapping")
        for key in _REFERENCES:
            entries = body.get(key) or []
            for i, entry in enumerate(entries if isinstance(entries, list) else []):
                if not isinstance(entry, str):
                    continue
                if _is_remote(entry):
                    raise InventoryError(
                        str(kfile), f"remote resource {entry!r}: ktmb works offline; vendor it "
                        "into the repository, or render the directory and pipe the output "
                        f"(kustomize build {root} | ktmb scan -)",
                        line=docs[0].lines.get(f"/{key}/{i}"))
                target = (folder / entry).resolve()
                if target.is_dir():
                    pending.append(target)
                elif target.is_file():
                    tree.resources.append(target)
    return tree


def _offline_env() -> dict[str, str]:
    """The renderer's environment: no proxy that works, git on local files only."""
    closed = "http://127.0.0.1:9"
    env = {k: v for k, v in os.environ.items()
           if k.upper() not in {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}}
    env.update({"HTTP_PROXY": closed, "HTTPS_PROXY": closed, "ALL_PROXY": closed,
                "http_proxy": closed, "https_proxy": closed, "all_proxy": closed,
                "GIT_ALLOW_PROTOCOL": "file", "GIT_TERMINAL_PROMPT": "0",
                "KUBECONFIG": os.devnull})
    return env


def _run(command: list[str], root: Path, label: str, limits: Limits) -> bytes:
    """The renderer's output for ``root``."""
    try:
        done = subprocess.run([*command, str(root)],  # noqa: S603 - a renderer found on PATH
                              capture_output=True, timeout=TIMEOUT, env=_offline_env(),
                              check=False)
    except subprocess.TimeoutExpired:
        raise InventoryError(label, f"kustomize build took longer than {TIMEOUT} s") from None
    except OSError as exc:
        raise InventoryError(label, f"cannot run {command[0]}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        problem = lines[-1] if lines else f"exit status {done.returncode}"
        raise InventoryError(label, f"kustomize build failed: {problem.removeprefix('Error: ')}")
    if len(done.stdout) > limits.max_file_bytes:
        raise InventoryError(label, f"the rendered kustomization is over the limit of "
                             f"{limits.max_file_bytes:,} bytes (KTMB_MAX_FILE_BYTES)")
    return done.stdout


_Source = tuple[str, dict[str, int] | None]


def _index(tree: KustomizeTree, limits: Limits,
           label_of: Callable[[Path], str]) -> dict[str, list[tuple[str, str, dict[str, int]]]]:
    """Source objects by kind: (name, file label, pointer lines)."""
    index: dict[str, list[tuple[str, str, dict[str, int]]]] = {}
    for path in tree.resources:
        try:
            docs = parse_documents(str(path), decode(str(path), read_file(path, limits)), limits)
        except InventoryError:
            continue  # not YAML the loader reads: the rendering says what it holds
        for doc in docs:
            body = doc.body
            if isinstance(body, dict) and isinstance(body.get("metadata"), dict):
                name = body["metadata"].get("name")
                if isinstance(name, str) and isinstance(body.get("kind"), str):
                    index.setdefault(body["kind"], []).append((name, label_of(path), doc.lines))
    return index


def _source_of(obj: dict[str, Any], index: dict[str, list[tuple[str, str, dict[str, int]]]],
               tree: KustomizeTree, label_of: Callable[[Path], str], label: str) -> _Source:
    """The file (and its lines) that declares a rendered object."""
    kind = str(obj.get("kind"))
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = str((metadata or {}).get("name") or "")
    found = [(src, file, lines) for src, file, lines in index.get(kind, []) if src in name]
    if found:
        _src, file, lines = max(found, key=lambda item: len(item[0]))
        return file, lines
    if tree.root_file is None:
        return label, None
    root_lines = tree.root_doc.lines if tree.root_doc is not None else {}
    line = root_lines.get(_GENERATED.get(kind, "/"), 1)
    return label_of(tree.root_file), {"/": line}


def render_kustomization(root: Path, label: str, limits: Limits) -> list[NamedInput]:
    """The rendered objects of the kustomization in ``root``, by the file that declares them.

    Files are labelled as ``label`` is, relative to it.

    Raises:
        InventoryError: no renderer is installed, the kustomization names a remote resource,
            or the rendering failed.
    """
    command = renderer()
    if command is None:
        raise InventoryError(label, "a kustomize directory (kustomization.yaml), and no "
                             "kustomize renderer is installed here (kustomize or kubectl); "
                             f"render it and pipe the output: kustomize build {label} | "
                             "ktmb scan -")
    top = root.resolve()

    def label_of(path: Path) -> str:
        return os.path.normpath(os.path.join(label, os.path.relpath(path, top)))

    tree = local_tree(root, limits)
    text = decode(label, _run(command, root, label, limits))
    rendered = parse_documents(f"{label} (kustomize build)", text, limits)
    index = _index(tree, limits, label_of)
    groups: dict[str, list[tuple[Any, dict[str, int] | None]]] = {}
    for doc in rendered:
        body = doc.body
        file, lines = (_source_of(body, index, tree, label_of, label) if isinstance(body, dict)
                       else (label, None))
        groups.setdefault(file, []).append((body, lines))
    return [NamedInput(file, "\n---\n".join(json.dumps(body) for body, _ in items).encode(),
                       line_map=document_line_map([lines for _, lines in items]))
            for file, items in groups.items()]
