"""Load manifests and notes safely: limits first, then parse, redact, and build the inventory.

Accepted: files, directories (recursive: .yaml, .yml, .json) and standard input (``-``);
multi-document YAML, JSON, ``kind: List`` and ``*List`` kinds, Helm and kustomize output. CRDs
and unknown kinds are kept (not analysed). Every problem is an :class:`InventoryError` naming
the file, and the line where the parser knows it. YAML bombs, deep nesting, huge and binary
files are refused before anything is built from them.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, BinaryIO, cast

import structlog
import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from workflow.domain.errors import InventoryError
from workflow.domain.inventory import Inventory, build_inventory
from workflow.domain.redaction import Redactor, load_or_create_key
from workflow.domain.resources import (
    CLUSTER_SCOPED_KINDS,
    WORKLOAD_KINDS,
    Resource,
    SecretValue,
    SourceRef,
    resource_id,
)
from workflow.domain.settings import Settings
from workflow.domain.threat_model import InputFile

__all__ = ["LoadedInputs", "Notes", "load_inputs"]

log = structlog.get_logger(__name__)

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SUFFIXES = {".yaml", ".yml", ".json"}
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


@dataclass
class _Limits:
    max_file_bytes: int
    max_documents: int
    max_depth: int
    max_aliases: int
    max_nodes: int


def _read(path: Path, limits: _Limits) -> bytes:
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            raise InventoryError(str(path), f"file is {size:,} bytes, over the limit of "
                                 f"{limits.max_file_bytes:,} (KTMB_MAX_FILE_BYTES)")
        with path.open("rb") as fh:
            data = fh.read(limits.max_file_bytes + 1)
    except OSError as exc:
        raise InventoryError(str(path), f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limits.max_file_bytes:
        raise InventoryError(str(path), f"file is over the limit of {limits.max_file_bytes:,} "
                             "bytes (KTMB_MAX_FILE_BYTES)")
    return data


def _decode(label: str, data: bytes) -> str:
    if b"\0" in data:
        raise InventoryError(label, "binary file, not YAML or JSON text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InventoryError(label, f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x} "
                             f"at offset {exc.start})") from None
    return text.removeprefix("\ufeff")


def _yaml_problem(label: str, exc: yaml.YAMLError) -> InventoryError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or type(exc).__name__
    context = getattr(exc, "context", None)
    text = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    return InventoryError(label, text, line=mark.line + 1 if mark is not None else None)


def _line(event: yaml.Event) -> int | None:
    mark = event.start_mark
    return mark.line + 1 if mark is not None else None


def _prescan(label: str, text: str, limits: _Limits) -> None:
    """Check depth, documents, aliases and the alias-expanded size from the event stream.

    The event parser is iterative, so this cannot be driven into deep recursion; it refuses a
    YAML bomb before any node is built.
    """
    depth = 0
    documents = 0
    aliases = 0
    sizes: list[int] = [0]  # nodes under each open collection (alias expansion counted)
    total = 0  # sum(sizes): the alias-expanded size of the current document so far
    anchored: dict[str, int] = {}
    anchors_open: list[str | None] = []
    scalar, alias = yaml.ScalarEvent, yaml.AliasEvent
    starts = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    try:
        events: Iterable[Any] = yaml.parse(text, Loader=_Loader)
        for event in events:
            cls = type(event)
            if cls is scalar:
                sizes[-1] += 1
                total += 1
                if event.anchor:
                    anchored[event.anchor] = 1
            elif cls in starts:
                depth += 1
                if depth > limits.max_depth:
                    raise InventoryError(label, f"nesting deeper than {limits.max_depth} levels "
                                         "(KTMB_MAX_DEPTH)",
                                         line=_line(event))
                sizes.append(1)
                total += 1
                anchors_open.append(event.anchor)
            elif cls in ends:
                depth -= 1
                size = sizes.pop()
                anchor = anchors_open.pop()
                if anchor:
                    anchored[anchor] = size
                sizes[-1] += size
                continue  # the size moved to the parent; the total is unchanged
            elif cls is alias:
                aliases += 1
                if aliases > limits.max_aliases:
                    raise InventoryError(label, f"more than {limits.max_aliases:,} YAML aliases "
                                         "(KTMB_MAX_ALIASES)", line=_line(event))
                size = anchored.get(event.anchor or "", 1)
                sizes[-1] += size
                total += size
            elif cls is yaml.DocumentStartEvent:
                documents += 1
                if documents > limits.max_documents:
                    raise InventoryError(label, f"more than {limits.max_documents:,} documents "
                                         "(KTMB_MAX_DOCUMENTS)")
                sizes = [0]
                total = 0
            if total > limits.max_nodes:
                raise InventoryError(label, "alias expansion exceeds "
                                     f"{limits.max_nodes:,} nodes (a YAML bomb?)",
                                     line=_line(event))
    except yaml.YAMLError as exc:
        raise _yaml_problem(label, exc) from None


_STR_TAG = "tag:yaml.org,2002:str"


class _Builder:
    """Turns composed YAML nodes into Python values and records the line of every pointer.

    With ``limits`` it also enforces the depth and size limits the pre-scan enforces otherwise
    (:func:`_parse` skips the pre-scan for a text that holds no alias); ``nodes`` counts the
    nodes of the current document, keys included, as the pre-scan does.
    """

    def __init__(self, label: str, limits: _Limits | None) -> None:
        self.constructor = SafeConstructor()
        self.label = label
        self.limits = limits
        self.nodes = 0

    def build(self, node: Node, path: str, lines: dict[str, int], depth: int = 1) -> Any:
        lines[path or "/"] = node.start_mark.line + 1
        cls = type(node)
        if cls is ScalarNode:
            self.nodes += 1
            if node.tag == _STR_TAG:  # the common case, without the constructor's dispatch
                return node.value
            return self.constructor.construct_object(node, deep=True)
        if self.limits is not None:
            self._check(node, depth, self.limits)
        if cls is SequenceNode:
            self.nodes += 1
            return [self.build(child, f"{path}/{i}", lines, depth + 1)
                    for i, child in enumerate(node.value)]
        if cls is MappingNode:
            self.nodes += 1 + len(node.value)  # the mapping and its keys
            self.constructor.flatten_mapping(cast(MappingNode, node))
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if type(key_node) is ScalarNode and key_node.tag == _STR_TAG:
                    text = key_node.value
                else:
                    key = self.constructor.construct_object(key_node, deep=True)
                    text = "" if key is None else str(key).lower() if isinstance(key, bool) \
                        else str(key)
                ptr = f"{path}/{text.replace('~', '~0').replace('/', '~1')}" \
                    if "~" in text or "/" in text else f"{path}/{text}"
                if type(value_node) is ScalarNode and value_node.tag == _STR_TAG:
                    lines[ptr] = value_node.start_mark.line + 1
                    self.nodes += 1
                    out[text] = value_node.value
                else:
                    out[text] = self.build(value_node, ptr, lines, depth + 1)
            return out
        return None  # pragma: no cover - the composer yields only the three node types

    def _check(self, node: Node, depth: int, limits: _Limits) -> None:
        line = node.start_mark.line + 1
        if depth > limits.max_depth:
            raise InventoryError(self.label, f"nesting deeper than {limits.max_depth} levels "
                                 "(KTMB_MAX_DEPTH)", line=line)
        if self.nodes > limits.max_nodes:
            raise InventoryError(self.label, f"more than {limits.max_nodes:,} YAML nodes in "
                                 "one document (KTMB_MAX_NODES)", line=line)


@dataclass
class _Doc:
    body: Any
    line: int
    index: int
    lines: dict[str, int]


def _may_alias(text: str) -> bool:
    """Whether ``text`` can hold a YAML anchor or alias at all (both need ``&`` or ``*``)."""
    return "&" in text or "*" in text


@cache
def _composer_is_bounded() -> bool:
    """Whether the YAML composer refuses deep nesting by itself.

    libyaml 0.2.6 stops at 1,000 levels ("exceeded maximum nesting depth"); a libyaml without
    that limit would recurse in C as deep as the text goes, so every text is pre-scanned then.
    The pure-Python composer is bounded by the interpreter's recursion limit.
    """
    probe = "[" * 1_001 + "]" * 1_001
    try:
        yaml.compose(probe, Loader=_Loader)
    except (yaml.YAMLError, RecursionError):
        return True
    return False


def _parse(label: str, text: str, limits: _Limits) -> list[_Doc]:
    """The documents of a YAML text, each with the line of every JSON pointer.

    A text that can hold an alias is pre-scanned (:func:`_prescan`) so that a YAML bomb is
    refused before any node is built. Without aliases the size of what is built is the size of
    the text, and the builder enforces the depth and size limits itself; that is safe when the
    composer bounds the nesting it recurses into (:func:`_composer_is_bounded`).
    """
    prescanned = _may_alias(text) or not _composer_is_bounded()
    if prescanned:
        _prescan(label, text, limits)
    builder = _Builder(label, None if prescanned else limits)
    docs: list[_Doc] = []
    try:
        for index, node in enumerate(yaml.compose_all(text, Loader=_Loader)):
            if index >= limits.max_documents:
                raise InventoryError(label, f"more than {limits.max_documents:,} documents "
                                     "(KTMB_MAX_DOCUMENTS)")
            if node is None:
                continue
            lines: dict[str, int] = {}
            builder.nodes = 0
            body = builder.build(node, "", lines)
            if body is None:  # an empty document (only comments, or a bare ---)
                continue
            docs.append(_Doc(body=body, line=node.start_mark.line + 1, index=index, lines=lines))
    except yaml.YAMLError as exc:
        raise _yaml_problem(label, exc) from None
    except RecursionError:
        raise InventoryError(label, "nesting too deep to read") from None
    return docs


def _sub_lines(lines: dict[str, int], prefix: str) -> dict[str, int]:
    cut = len(prefix)
    return {k[cut:] or "/": v for k, v in lines.items()
            if k == prefix or k.startswith(prefix + "/")}


def _objects(label: str, doc: _Doc) -> list[tuple[dict[str, Any], int, dict[str, int]]]:
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
    if "/env/" in path:
        return "env"
    if "/args/" in path:
        return "args"
    if "/command/" in path:
        return "command"
    if kind == "ConfigMap":
        return "configmap"
    if "/annotations/" in path:
        return "annotation"
    return "other"


def _walk_paths(paths: Sequence[str | Path]) -> list[tuple[Path | None, bool]]:
    """Expand directories; (path, named explicitly). ``None`` stands for standard input."""
    out: list[tuple[Path | None, bool]] = []
    for raw in paths:
        if str(raw) == "-":
            out.append((None, True))
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file()
                           and p.suffix.lower() in _SUFFIXES
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            out.extend((p, False) for p in found)
        elif path.exists():
            out.append((path, True))
        else:
            raise InventoryError(str(path), "no such file or directory")
    return out


def load_inputs(paths: Sequence[str | Path], *, settings: Settings,
                architecture: Iterable[str | Path] = (), stdin: BinaryIO | None = None,
                base: Path | None = None) -> LoadedInputs:
    """Load, check, redact and index the inputs of one application.

    Args:
        paths: files, directories or ``-`` for standard input.
        settings: limits and the redaction key's home.
        architecture: Markdown or text notes about the architecture or a security review.
        stdin: where ``-`` reads from (standard input by default).
        base: paths in the output are relative to this directory when below it.

    Raises:
        InventoryError: an input is unusable; the message names the file (and line).
    """
    limits = _Limits(settings.max_file_bytes, settings.max_documents, settings.max_depth,
                     settings.max_aliases, settings.max_nodes)
    redactor = Redactor(key=load_or_create_key(settings.home, settings.redaction_key))
    files: list[InputFile] = []
    resources: list[Resource] = []
    secrets: list[SecretValue] = []
    warnings: list[str] = []
    unnamed = 0
    documents = 0
    if not paths:
        raise InventoryError("(no input)", "give at least one manifest file or directory")
    for path, explicit in _walk_paths(paths):
        label = _label(path, base)
        if path is None:
            data = (stdin or sys.stdin.buffer).read(limits.max_file_bytes + 1)
            if len(data) > limits.max_file_bytes:
                raise InventoryError(label, "standard input is over the limit of "
                                     f"{limits.max_file_bytes:,} bytes (KTMB_MAX_FILE_BYTES)")
        else:
            data = _read(path, limits)
        text = _decode(label, data)
        docs = _parse(label, text, limits)
        documents += len(docs)
        if documents > limits.max_documents:
            raise InventoryError(label, f"more than {limits.max_documents:,} documents in all "
                                 "(KTMB_MAX_DOCUMENTS)")
        try:
            objects = [(doc, obj) for doc in docs for obj in _objects(label, doc)]
        except InventoryError:
            if explicit:
                raise
            warnings.append(f"{label}: skipped, not Kubernetes manifests")
            log.warning("input_skipped", file=label, reason="not Kubernetes manifests")
            continue
        files.append(InputFile(path=label, sha256=hashlib.sha256(data).hexdigest(),
                               role="stdin" if path is None else "manifest"))
        for doc, (obj, line, lines) in objects:
            if not obj.get("metadata", {}).get("name") if isinstance(obj.get("metadata"),
                                                                         dict) else True:
                unnamed += 1
            before = len(redactor.found)
            redactor.redact_object(obj)
            res = _resource(label, obj, doc.index, line, lines, unnamed)
            for found in redactor.found[before:]:
                secrets.append(SecretValue(
                    resource=res.id, file=label, path=found.path, reason=found.reason,
                    fingerprint=found.fingerprint,
                    location=_secret_location(found.path, res.kind)))
            resources.append(res)
    if not resources:
        named = ", ".join("<stdin>" if str(p) == "-" else str(p) for p in paths)
        raise InventoryError(named, "no Kubernetes objects found")
    notes = []
    for note_path in architecture:
        path = Path(note_path)
        label = _label(path, base)
        if not path.is_file():
            raise InventoryError(label, "no such notes file")
        data = _read(path, limits)
        text = _decode(label, data)
        files.append(InputFile(path=label, sha256=hashlib.sha256(data).hexdigest(),
                               role="architecture"))
        notes.append(Notes(path=label, text=redactor.scrub_text(text, label)))
    return LoadedInputs(files=files, resources=resources, secret_values=secrets, notes=notes,
                        warnings=warnings)


def _label(path: Path | None, base: Path | None) -> str:
    if path is None:
        return "<stdin>"
    if base is not None:
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            pass
    return str(path)
