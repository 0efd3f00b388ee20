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

import hashlib
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO

import structlog

from workflow.domain.errors import ConfigError, InventoryError
from workflow.domain.input_sources import SourceKind, input_sources
from workflow.domain.inventory import Inventory, build_inventory
from workflow.domain.named_input import NamedInput
from workflow.domain.redaction import Redactor, load_or_create_key
from workflow.domain.renderers import RenderOptions
from workflow.domain.renderers.helm_charts import render_chart
from workflow.domain.renderers.kustomize import render_kustomization
from workflow.domain.renderers.schema_validation import SchemaValidator
from workflow.domain.resources import (
    CLUSTER_SCOPED_KINDS,
    WORKLOAD_KINDS,
    Resource,
    SecretValue,
    SourceRef,
    dig,
    resource_id,
)
from workflow.domain.safe_yaml import (
    Document,
    Limits,
    decode,
    input_limit_error,
    parse_documents,
    read_file,
    read_stream,
)
from workflow.domain.settings import Settings
from workflow.domain.threat_model import InputFile

__all__ = ["LoadedInputs", "NamedInput", "Notes", "load_inputs", "load_named_inputs"]

log = structlog.get_logger(__name__)

KNOWN_KINDS = frozenset(set(WORKLOAD_KINDS) | set(CLUSTER_SCOPED_KINDS) | {
    "Service", "Ingress", "ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "Secret",
    "ConfigMap", "PersistentVolumeClaim", "Endpoints", "EndpointSlice", "LimitRange",
    "ResourceQuota", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Event", "Lease",
})


@dataclass(frozen=True)
class Notes:
    """An architecture or security-review notes file, redacted."""

    path: str
    text: str


_RESOURCE_FIELDS = frozenset(Resource.model_fields)
_SOURCE_FIELDS = frozenset(SourceRef.model_fields)


def _trusted_resource(data: dict[str, Any]) -> Resource:
    """A resource from a snapshot this module wrote (validated when it was loaded).

    Anything that does not have exactly the shape it wrote is validated in full, so a damaged
    snapshot still fails with a validation error rather than a half-built resource.
    """
    source = data.get("source")
    if (data.keys() != _RESOURCE_FIELDS or not isinstance(source, dict)
            or source.keys() != _SOURCE_FIELDS or not isinstance(data.get("raw"), dict)):
        return Resource.model_validate(data)
    fields = dict(data)
    fields["source"] = SourceRef.model_construct(**fields["source"])
    return Resource.model_construct(**fields)


@dataclass
class LoadedInputs:
    """Everything a run reads, redacted, with digests."""

    files: list[InputFile]
    resources: list[Resource]
    secret_values: list[SecretValue]
    notes: list[Notes] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @cached_property
    def inventory(self) -> Inventory:
        """The inventory built from the resources."""
        return build_inventory(self.resources, self.secret_values)

    def to_snapshot(self) -> dict[str, Any]:
        """A JSON-ready snapshot (what a run's state keeps; already redacted)."""
        return {
            "files": [f.model_dump(mode="json") for f in self.files],
            "resources": [r.model_dump(mode="json") for r in self.resources],
            "secret_values": [s.model_dump(mode="json") for s in self.secret_values],
            "notes": [{"path": n.path, "text": n.text} for n in self.notes],
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> LoadedInputs:
        """Rebuild from :meth:`to_snapshot` output."""
        return cls(
            files=[InputFile.model_validate(f) for f in data.get("files", [])],
            resources=[_trusted_resource(r) for r in data.get("resources", [])],
            secret_values=[SecretValue.model_validate(s) for s in data.get("secret_values", [])],
            notes=[Notes(path=n["path"], text=n["text"]) for n in data.get("notes", [])],
            warnings=list(data.get("warnings", [])))

    @property
    def digest(self) -> str:
        """A digest of all inputs (paths and contents)."""
        h = hashlib.sha256()
        for item in sorted(self.files, key=lambda f: (f.role, f.path)):
            h.update(f"{item.role}\0{item.path}\0{item.sha256}\n".encode())
        return h.hexdigest()


def _sub_lines(lines: dict[str, int], prefix: str) -> dict[str, int]:
    cut = len(prefix)
    return {k[cut:] or "/": v for k, v in lines.items()
            if k == prefix or k.startswith(prefix + "/")}


def _objects(label: str, doc: Document) -> list[tuple[dict[str, Any], int, dict[str, int]]]:
    """The Kubernetes objects in a document (List kinds expanded)."""
    body = doc.body
    if not isinstance(body, dict):
        raise InventoryError(label, f"document {doc.index + 1} is not a Kubernetes object "
                             "(expected a mapping with apiVersion and kind)", line=doc.line)
    kind = body.get("kind")
    if not isinstance(kind, str) or not kind or not body.get("apiVersion"):
        raise InventoryError(label, f"document {doc.index + 1} is not a Kubernetes object "
                             "(no apiVersion or kind)", line=doc.line)
    if kind == "List" or (kind.endswith("List") and isinstance(body.get("items"), list)):
        out = []
        for i, item in enumerate(body.get("items") or []):
            if not isinstance(item, dict) or not item.get("kind") or not item.get("apiVersion"):
                raise InventoryError(label, f"item {i + 1} of the {kind} is not a Kubernetes "
                                     "object", line=doc.lines.get(f"/items/{i}", doc.line))
            sub = _sub_lines(doc.lines, f"/items/{i}")
            out.append((item, sub.get("/", doc.line), sub))
        return out
    return [(body, doc.line, doc.lines)]


_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
#: What a file adds to the inputs' size as loaded besides its objects: its entry in the run's
#: list of inputs and snapshot (role, path, digest), so many empty files count too.
_FILE_ENTRY = 100


def _count_containers(label: str, obj: dict[str, Any], lines: dict[str, int], limits: Limits,
                      total: int) -> int:
    """``total`` plus the containers of a workload's pod spec, within both container limits.

    Each container becomes a dozen findings or so (up to about 20 kB of threat model) and a
    share of every phase's work, so a pod spec with thousands of them, or inputs with tens of
    thousands, are refused before anything runs (``KTMB_MAX_CONTAINERS``,
    ``KTMB_MAX_TOTAL_CONTAINERS``).
    """
    pointer = WORKLOAD_KINDS.get(str(obj["kind"]))
    spec = dig(obj, pointer) if pointer is not None else None
    if pointer is None or not isinstance(spec, dict):
        return total
    count = sum(len(items) for key in _CONTAINER_LISTS
                if isinstance(items := spec.get(key), list))
    if count > limits.max_containers:
        metadata = obj.get("metadata")
        meta = metadata if isinstance(metadata, dict) else {}
        name = "/".join(str(meta[k]) for k in ("namespace", "name") if meta.get(k))
        raise InventoryError(label, f"{obj['kind']} {name or '(unnamed)'} has {count:,} "
                             "containers in one pod spec, over the limit of "
                             f"{limits.max_containers:,} (KTMB_MAX_CONTAINERS)",
                             line=lines.get(f"{pointer}/containers", lines.get("/")))
    if total + count > limits.max_total_containers:
        raise InventoryError(label, f"more than {limits.max_total_containers:,} containers in "
                             "all the inputs (KTMB_MAX_TOTAL_CONTAINERS)", line=lines.get("/"))
    return total + count


def _resource(label: str, obj: dict[str, Any], doc_index: int, line: int,
              lines: dict[str, int], unnamed: int) -> Resource:
    kind = str(obj["kind"])
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)  # noqa: S101 - narrowed above for the type checker
    name = str(metadata.get("name") or metadata.get("generateName") or f"unnamed-{unnamed}")
    namespace: str | None = None
    if kind not in CLUSTER_SCOPED_KINDS:
        namespace = str(metadata.get("namespace") or "default")
    labels = metadata.get("labels") if isinstance(metadata.get("labels"), dict) else {}
    annotations = (metadata.get("annotations")
                   if isinstance(metadata.get("annotations"), dict) else {})
    return Resource(
        id=resource_id(kind, name, namespace), kind=kind, api_version=str(obj["apiVersion"]),
        name=name, namespace=namespace,
        labels={str(k): "" if v is None else str(v) for k, v in (labels or {}).items()},
        annotations={str(k): "" if v is None else str(v) for k, v in (annotations or {}).items()},
        source=SourceRef(file=label, document=doc_index, line=line), raw=obj,
        known=kind in KNOWN_KINDS, lines=lines)


def _secret_location(path: str, kind: str) -> str:
    if kind == "Secret":
        return "secret"
    if "/metadata/annotations/" in path:
        return "annotation"
    if "/metadata/labels/" in path:
        return "label"
    if "/env/" in path:
        return "env"
    if "/args/" in path:
        return "args"
    if "/command/" in path:
        return "command"
    if kind == "ConfigMap":
        return "configmap"
    return "other"


def load_inputs(paths: Sequence[str | Path], *, settings: Settings,
                architecture: Iterable[str | Path] = (), stdin: BinaryIO | None = None,
                base: Path | None = None, render: RenderOptions | None = None) -> LoadedInputs:
    """Load, check, redact and index the inputs of one application.

    Args:
        paths: files, directories, Helm charts, kustomize directories or ``-`` for standard
            input (:mod:`workflow.domain.input_sources`).
        settings: limits and the redaction key's home.
        architecture: Markdown or text notes about the architecture or a security review.
        stdin: where ``-`` reads from (standard input by default).
        base: paths in the output are relative to this directory when below it.
        render: Helm values and the Kubernetes version to render and validate for.

    Raises:
        InventoryError: an input is unusable; the message names the file (and line).
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
                yield NamedInput(label, read_file(path, limits), source.explicit)

    def notes() -> Iterator[NamedInput]:
        for note_path in architecture:
            path = Path(note_path)
            label = _label(path, base)
            if not path.is_file():
                raise InventoryError(label, "no such notes file")
            yield NamedInput(label, read_file(path, limits))

    named = ", ".join("<stdin>" if str(p) == "-" else str(p) for p in paths)
    return _load(manifests(), notes(), settings=settings, named=named,
                 kube_version=render.kube_version)


def load_named_inputs(manifests: Iterable[NamedInput], *, settings: Settings,
                      architecture: Iterable[NamedInput] = ()) -> LoadedInputs:
    """Load, check, redact and index inputs whose contents are already read.

    The contents are checked against the size limit here too; the iterables are consumed one
    item at a time, so they may read each input as it is needed.

    Raises:
        InventoryError: an input is unusable; the message names it (and the line).
    """
    return _load(manifests, architecture, settings=settings, named="")


def _load(manifests: Iterable[NamedInput], architecture: Iterable[NamedInput], *,
          settings: Settings, named: str, kube_version: str | None = None) -> LoadedInputs:
    limits = Limits.of(settings)
    schemas = SchemaValidator(kube_version) if kube_version is not None else None
    redactor = Redactor(key=load_or_create_key(settings.home, settings.redaction_key))
    files: list[InputFile] = []
    resources: list[Resource] = []
    secrets: list[SecretValue] = []
    warnings: list[str] = []
    unnamed = 0
    documents = 0
    used = 0  # the inputs' size as loaded so far (KTMB_MAX_INPUT_BYTES)
    containers = 0
    seen: list[str] = []
    for item in manifests:
        label, data = item.label, item.data
        seen.append(label)
        _check_size(label, data, limits)
        used += len(label) + _FILE_ENTRY
        docs = parse_documents(label, decode(label, data), limits, used=used)
        if item.line_map is not None:  # rendered: lines of the template or resource file
            for doc in docs:
                doc.lines = item.line_map(doc.index, doc.lines)
                doc.line = doc.lines.get("/", 1)
        used += sum(doc.size for doc in docs)
        documents += len(docs)
        if documents > limits.max_documents:
            raise InventoryError(label, f"more than {limits.max_documents:,} documents in all "
                                 "(KTMB_MAX_DOCUMENTS)")
        try:
            objects = [(doc, obj) for doc in docs for obj in _objects(label, doc)]
        except InventoryError:
            if item.explicit:
                raise
            warnings.append(f"{label}: skipped, not Kubernetes manifests")
            log.warning("input_skipped", file=label, reason="not Kubernetes manifests")
            continue
        files.append(InputFile(path=label, sha256=hashlib.sha256(data).hexdigest(),
                               role=item.role))
        for doc, (obj, line, lines) in objects:
            containers = _count_containers(label, obj, lines, limits, containers)
            if not obj.get("metadata", {}).get("name") if isinstance(obj.get("metadata"),
                                                                         dict) else True:
                unnamed += 1
            before = len(redactor.found)
            redactor.redact_object(obj)
            res = _resource(label, obj, doc.index, line, lines, unnamed)
            if schemas is not None and (problem := schemas.problem(obj)) is not None:
                warnings.append(f"{label}:{res.line_of(problem.pointer)}: {res.id} is not valid "
                                f"for Kubernetes {schemas.version} ({problem.message}); "
                                "not analysed")
                log.info("input_invalid", file=label, line=res.line_of(problem.pointer),
                            resource=res.id, problem=problem.message)
                continue
            for found in redactor.found[before:]:
                secrets.append(SecretValue(
                    resource=res.id, file=label, path=found.path, reason=found.reason,
                    fingerprint=found.fingerprint,
                    location=_secret_location(found.path, res.kind)))
            resources.append(res)
    if not resources:
        count = sum(w.endswith("; not analysed") for w in warnings)
        raise InventoryError(named or ", ".join(seen) or "(no input)",
                             f"no valid Kubernetes objects found ({count} invalid)" if count
                             else "no Kubernetes objects found")
    notes = []
    for note in architecture:
        _check_size(note.label, note.data, limits)
        text = decode(note.label, note.data)
        used += len(note.label) + _FILE_ENTRY + len(text)
        if used > limits.max_input_bytes:
            raise input_limit_error(note.label, limits)
        files.append(InputFile(path=note.label, sha256=hashlib.sha256(note.data).hexdigest(),
                               role="architecture"))
        notes.append(Notes(path=note.label,
                           text=redactor.scrub_text(text, note.label, prose=True)))
    return LoadedInputs(files=files, resources=resources, secret_values=secrets, notes=notes,
                        warnings=warnings)


def _check_size(label: str, data: bytes, limits: Limits) -> None:
    if len(data) > limits.max_file_bytes:
        raise InventoryError(label, f"file is over the limit of {limits.max_file_bytes:,} "
                             "bytes (KTMB_MAX_FILE_BYTES)")


def _label(path: Path | None, base: Path | None) -> str:
    if path is None:
        return "<stdin>"
    if base is not None:
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            pass
    return str(path)
