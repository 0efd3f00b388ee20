"""Load manifests and notes safely: limits first, then parse, redact, and build the inventory.

:func:`load_inputs` reads paths; :func:`load_named_inputs` takes contents someone else has
already read (uploads, files read through descriptors inside allowed directories), so what is
checked is what is loaded. Accepted: files, directories (recursive: .yaml, .yml, .json) and
standard input (``-``);
multi-document YAML, JSON, ``kind: List`` and ``*List`` kinds, Helm and kustomize output. CRDs
and unknown kinds are kept (not analysed). Every problem is an :class:`InventoryError` naming
the file, and the line where the parser knows it. YAML bombs, deep nesting, huge and binary
files are refused before anything is built from them (:mod:`workflow.domain.safe_yaml`).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO, Literal

import structlog

from workflow.domain.errors import InventoryError, NoManifestsError
from workflow.domain.inventory import Inventory, build_inventory
from workflow.domain.marks import TriageSource
from workflow.domain.profile_loader import LoadedProfile
from workflow.domain.redaction import Redactor, load_or_create_key
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
from workflow.domain.side_files import SideFile, SideFiles, SideRole, role_of, siblings
from workflow.domain.threat_model import InputFile
from workflow.domain.triage import SourcedSuppression, Suppression

__all__ = ["LoadedInputs", "NamedInput", "Notes", "load_inputs", "load_named_inputs"]

log = structlog.get_logger(__name__)

_SUFFIXES = {".yaml", ".yml", ".json"}
KNOWN_KINDS = frozenset(set(WORKLOAD_KINDS) | set(CLUSTER_SCOPED_KINDS) | {
    "Service", "Ingress", "ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "Secret",
    "ConfigMap", "PersistentVolumeClaim", "Endpoints", "EndpointSlice", "LimitRange",
    "ResourceQuota", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Event", "Lease",
    "CiliumNetworkPolicy",
})


@dataclass(frozen=True)
class Notes:
    """An architecture or security-review notes file, redacted."""

    path: str
    text: str


@dataclass(frozen=True)
class NamedInput:
    """The contents of one input, already read, and the name it has in the output.

    ``explicit`` is False for a file found in a directory: one that holds no Kubernetes objects
    is skipped with a warning instead of refused.
    """

    label: str
    data: bytes
    explicit: bool = True
    role: Literal["manifest", "stdin"] | SideRole = "manifest"


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
    namespace: str | None = None
    #: The application profile (``ktmb.yaml`` and the notes' front matter), if any.
    profile: LoadedProfile | None = None
    #: Decisions kept in the repository: the suppressions file and ``ktmb.io/accept``.
    suppressions: list[SourcedSuppression] = field(default_factory=list)

    @cached_property
    def inventory(self) -> Inventory:
        """The inventory built from the resources."""
        return build_inventory(self.resources, self.secret_values,
                               default_namespace=self.namespace)

    def to_snapshot(self) -> dict[str, Any]:
        """A JSON-ready snapshot (what a run's state keeps; already redacted)."""
        return {
            "files": [f.model_dump(mode="json") for f in self.files],
            "resources": [r.model_dump(mode="json") for r in self.resources],
            "secret_values": [s.model_dump(mode="json") for s in self.secret_values],
            "notes": [{"path": n.path, "text": n.text} for n in self.notes],
            "warnings": list(self.warnings),
            "namespace": self.namespace,
            "profile": self.profile.to_snapshot() if self.profile is not None else None,
            "suppressions": [{"entry": s.entry.model_dump(mode="json"),
                              "source": s.source.value,
                              "file": s.file, "line": s.line} for s in self.suppressions],
        }

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> LoadedInputs:
        """Rebuild from :meth:`to_snapshot` output."""
        return cls(
            files=[InputFile.model_validate(f) for f in data.get("files", [])],
            resources=[_trusted_resource(r) for r in data.get("resources", [])],
            secret_values=[SecretValue.model_validate(s) for s in data.get("secret_values", [])],
            notes=[Notes(path=n["path"], text=n["text"]) for n in data.get("notes", [])],
            warnings=list(data.get("warnings", [])), namespace=data.get("namespace"),
            profile=(LoadedProfile.from_snapshot(data["profile"]) if data.get("profile")
                     else None),
            suppressions=[SourcedSuppression(entry=Suppression.model_validate(s["entry"]),
                                             source=TriageSource(s["source"]),
                                             file=s["file"],
                                             line=s.get("line"))
                          for s in data.get("suppressions") or []])

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
              lines: dict[str, int], unnamed: int, default_namespace: str) -> Resource:
    kind = str(obj["kind"])
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)  # noqa: S101 - narrowed above for the type checker
    name = str(metadata.get("name") or metadata.get("generateName") or f"unnamed-{unnamed}")
    namespace: str | None = None
    if kind not in CLUSTER_SCOPED_KINDS:
        namespace = str(metadata.get("namespace") or default_namespace)
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
                base: Path | None = None, namespace: str | None = None,
                profile: str | Path | None = None, suppressions: str | Path | None = None,
                skip_other_files: bool = False) -> LoadedInputs:
    """Load, check, redact and index the inputs of one application.

    Args:
        paths: files, directories or ``-`` for standard input.
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

    Raises:
        InventoryError: an input is unusable; the message names the file (and line).
        NoManifestsError: no input holds a Kubernetes object.
    """
    if not paths:
        raise InventoryError("(no input)", "give at least one manifest file or directory")
    limits = Limits.of(settings)

    def manifests() -> Iterator[NamedInput]:  # read one at a time, as they are loaded
        if profile is not None:
            yield NamedInput(_label(Path(profile), base), read_file(Path(profile), limits),
                             role="profile")
        if suppressions is not None:
            yield NamedInput(_label(Path(suppressions), base),
                             read_file(Path(suppressions), limits), role="suppressions")
        for sibling in siblings(paths):
            yield NamedInput(_label(sibling, base), read_file(sibling, limits), explicit=False)
        for path, explicit in _walk_paths(paths):
            label = _label(path, base)
            if path is None:
                yield NamedInput(label, read_stream(stdin or sys.stdin.buffer, label, limits),
                                 role="stdin")
            else:
                yield NamedInput(label, read_file(path, limits),
                                 explicit and not skip_other_files)

    def notes() -> Iterator[NamedInput]:
        for note_path in architecture:
            path = Path(note_path)
            label = _label(path, base)
            if not path.is_file():
                raise InventoryError(label, "no such notes file")
            yield NamedInput(label, read_file(path, limits))

    named = ", ".join("<stdin>" if str(p) == "-" else str(p) for p in paths)
    return _load(manifests(), notes(), settings=settings, named=named, namespace=namespace)


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
          settings: Settings, named: str, namespace: str | None) -> LoadedInputs:
    limits = Limits.of(settings)
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
    side = SideFiles()
    for item in manifests:
        label, data = item.label, item.data
        _check_size(label, data, limits)
        role: SideRole | None = role_of(label) if not item.explicit else None
        if item.role == "profile" or item.role == "suppressions":
            role = item.role
        if role is not None:
            used += len(label) + _FILE_ENTRY + len(data)
            side.add(SideFile(label, data, role, explicit=item.role == role))
            continue
        seen.append(label)
        used += len(label) + _FILE_ENTRY
        docs = parse_documents(label, decode(label, data), limits, used=used)
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
            res = _resource(label, obj, doc.index, line, lines, unnamed,
                            namespace or "default")
            for found in redactor.found[before:]:
                secrets.append(SecretValue(
                    resource=res.id, file=label, path=found.path, reason=found.reason,
                    fingerprint=found.fingerprint,
                    location=_secret_location(found.path, res.kind), shape=found.shape))
            resources.append(res)
    if not resources:
        raise NoManifestsError(named or ", ".join(seen) or "(no input)",
                               "no Kubernetes objects found")
    notes = []
    raw_notes: list[tuple[str, str]] = []
    for note in architecture:
        _check_size(note.label, note.data, limits)
        text = decode(note.label, note.data)
        used += len(note.label) + _FILE_ENTRY + len(text)
        if used > limits.max_input_bytes:
            raise input_limit_error(note.label, limits)
        files.append(InputFile(path=note.label, sha256=hashlib.sha256(note.data).hexdigest(),
                               role="architecture"))
        raw_notes.append((note.label, text))
        notes.append(Notes(path=note.label,
                           text=redactor.scrub_text(text, note.label, prose=True)))
    warnings.extend(_namespace_hints(resources, namespace))
    if used > limits.max_input_bytes:
        raise input_limit_error(", ".join(i.label for i in side.items), limits)
    profile, suppressions, side_inputs = side.load(
        limits, notes=raw_notes, resources=resources,
        scrub=lambda text, where: redactor.scrub_text(text, where))
    return LoadedInputs(files=[*side_inputs, *files], resources=resources,
                        secret_values=secrets, notes=notes, warnings=warnings,
                        profile=profile, suppressions=suppressions, namespace=namespace)


def _namespace_hints(resources: Sequence[Resource], namespace: str | None) -> list[str]:
    """A hint when objects without a namespace look meant for the namespace bindings name.

    Charts rendered for ``helm -n NS`` leave ``metadata.namespace`` out but name NS in their
    bindings' subjects: placed in ``default``, their pods' tokens lose their rights.
    """
    if namespace is not None:
        return []
    defaulted = {r.name for r in resources if r.kind == "ServiceAccount"
                 and r.namespace == "default" and not (r.raw.get("metadata") or {}).get(
                     "namespace")}
    named: set[str] = set()
    for res in resources:
        if res.kind not in {"RoleBinding", "ClusterRoleBinding"}:
            continue
        for subject in res.raw.get("subjects") or []:
            if isinstance(subject, dict) and subject.get("kind") == "ServiceAccount" \
                    and subject.get("name") in defaulted \
                    and subject.get("namespace") not in {None, "", "default"}:
                named.add(str(subject["namespace"]))
    return [f"objects without a namespace were placed in default, but bindings name their "
            f"service accounts in namespace {ns}: give --namespace {ns} (as kubectl apply -n "
            "would)" for ns in sorted(named)]


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
