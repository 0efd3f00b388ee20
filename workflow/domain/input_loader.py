"""One load of an application's inputs: each input checked, parsed, redacted and indexed.

:class:`InputLoader` keeps what the inputs add up to (documents, containers, size as loaded) so
every limit is checked while they are read, before a run exists; :mod:`workflow.domain.inputs`
feeds it the inputs one at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import structlog

from workflow.domain.errors import InventoryError, NoManifestsError
from workflow.domain.loaded_inputs import LoadedInputs, Notes
from workflow.domain.named_input import NamedInput
from workflow.domain.redaction import Redactor, load_or_create_key
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
from workflow.domain.safe_yaml import Document, Limits, decode, input_limit_error, parse_documents
from workflow.domain.settings import Settings
from workflow.domain.side_files import SideFile, SideFiles, SideRole, role_of
from workflow.domain.threat_model import InputFile

__all__ = ["InputLoader"]

log = structlog.get_logger(__name__)

KNOWN_KINDS = frozenset(set(WORKLOAD_KINDS) | set(CLUSTER_SCOPED_KINDS) | {
    "Service", "Ingress", "ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "Secret",
    "ConfigMap", "PersistentVolumeClaim", "Endpoints", "EndpointSlice", "LimitRange",
    "ResourceQuota", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Event", "Lease",
    "CiliumNetworkPolicy",
})



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



class InputLoader:
    """The state of one load: what the inputs read so far hold and add up to."""

    def __init__(self, settings: Settings, *, namespace: str | None = None,
                 kube_version: str | None = None) -> None:
        self.limits = Limits.of(settings)
        self.namespace = namespace
        self._schemas = SchemaValidator(kube_version) if kube_version is not None else None
        self._redactor = Redactor(key=load_or_create_key(settings.home, settings.redaction_key))
        self._files: list[InputFile] = []
        self._resources: list[Resource] = []
        self._secrets: list[SecretValue] = []
        self._warnings: list[str] = []
        self._notes: list[Notes] = []
        self._raw_notes: list[tuple[str, str]] = []
        self._side = SideFiles()
        self._seen: list[str] = []
        self._unnamed = 0
        self._documents = 0
        self._used = 0  # the inputs' size as loaded so far (KTMB_MAX_INPUT_BYTES)
        self._containers = 0

    def add(self, item: NamedInput) -> None:
        """Load one manifest input (or a profile or suppressions file, kept for :meth:`finish`).

        A file found in a directory that holds no Kubernetes objects is skipped with a warning.
        """
        label, data = item.label, item.data
        _check_size(label, data, self.limits)
        role: SideRole | None = role_of(label) if not item.explicit else None
        if item.role == "profile" or item.role == "suppressions":
            role = item.role
        if role is not None:
            self._used += len(label) + _FILE_ENTRY + len(data)
            self._side.add(SideFile(label, data, role, explicit=item.role == role))
            return
        self._seen.append(label)
        self._used += len(label) + _FILE_ENTRY
        docs = parse_documents(label, decode(label, data), self.limits, used=self._used)
        if item.line_map is not None:  # rendered: lines of the template or resource file
            for doc in docs:
                doc.lines = item.line_map(doc.index, doc.lines)
                doc.line = doc.lines.get("/", 1)
        self._used += sum(doc.size for doc in docs)
        self._documents += len(docs)
        if self._documents > self.limits.max_documents:
            raise InventoryError(label, f"more than {self.limits.max_documents:,} documents in "
                                 "all (KTMB_MAX_DOCUMENTS)")
        try:
            objects = [(doc, obj) for doc in docs for obj in _objects(label, doc)]
        except InventoryError:
            if item.explicit:
                raise
            self._warnings.append(f"{label}: skipped, not Kubernetes manifests")
            log.warning("input_skipped", file=label, reason="not Kubernetes manifests")
            return
        self._files.append(InputFile(path=label, sha256=hashlib.sha256(data).hexdigest(),
                                     role=item.role))
        for doc, (obj, line, lines) in objects:
            self._add_object(label, doc.index, obj, line, lines)

    def _add_object(self, label: str, doc_index: int, obj: dict[str, Any], line: int,
                    lines: dict[str, int]) -> None:
        self._containers = _count_containers(label, obj, lines, self.limits, self._containers)
        metadata = obj.get("metadata")
        if not (isinstance(metadata, dict) and metadata.get("name")):
            self._unnamed += 1
        before = len(self._redactor.found)
        self._redactor.redact_object(obj)
        res = _resource(label, obj, doc_index, line, lines, self._unnamed,
                        self.namespace or "default")
        if self._schemas is not None and (problem := self._schemas.problem(obj)) is not None:
            where = res.line_of(problem.pointer)
            self._warnings.append(f"{label}:{where}: {res.id} is not valid for Kubernetes "
                                  f"{self._schemas.version} ({problem.message}); not analysed")
            log.info("input_invalid", file=label, line=where, resource=res.id,
                     problem=problem.message)
            return
        self._secrets += [SecretValue(resource=res.id, file=label, path=found.path,
                                      reason=found.reason, fingerprint=found.fingerprint,
                                      location=_secret_location(found.path, res.kind),
                                      shape=found.shape)
                          for found in self._redactor.found[before:]]
        self._resources.append(res)

    def require_objects(self, named: str) -> None:
        """Refuse inputs that hold no (valid) Kubernetes object, naming them."""
        if self._resources:
            return
        count = sum(w.endswith("; not analysed") for w in self._warnings)
        raise NoManifestsError(named or ", ".join(self._seen) or "(no input)",
                               f"no valid Kubernetes objects found ({count} invalid)" if count
                               else "no Kubernetes objects found")

    def add_notes(self, note: NamedInput) -> None:
        """Load one architecture or security-review notes file (redacted as prose)."""
        _check_size(note.label, note.data, self.limits)
        text = decode(note.label, note.data)
        self._used += len(note.label) + _FILE_ENTRY + len(text)
        if self._used > self.limits.max_input_bytes:
            raise input_limit_error(note.label, self.limits)
        self._files.append(InputFile(path=note.label,
                                     sha256=hashlib.sha256(note.data).hexdigest(),
                                     role="architecture"))
        self._raw_notes.append((note.label, text))
        self._notes.append(Notes(path=note.label, text=self._redactor.scrub_text(
            text, note.label, prose=True)))

    def finish(self) -> LoadedInputs:
        """The loaded inputs, with the profile and suppressions read against them."""
        self._warnings.extend(_namespace_hints(self._resources, self.namespace))
        if self._used > self.limits.max_input_bytes:
            raise input_limit_error(", ".join(i.label for i in self._side.items), self.limits)
        profile, suppressions, side_inputs = self._side.load(
            self.limits, notes=self._raw_notes, resources=self._resources,
            scrub=lambda text, where: self._redactor.scrub_text(text, where))
        return LoadedInputs(files=[*side_inputs, *self._files], resources=self._resources,
                            secret_values=self._secrets, notes=self._notes,
                            warnings=self._warnings, profile=profile,
                            suppressions=suppressions, namespace=self.namespace)


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
