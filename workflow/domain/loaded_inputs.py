"""The inputs of one application as loaded: redacted resources, notes, profile and digests.

What a run keeps of its inputs (:meth:`LoadedInputs.to_snapshot`) and rebuilds them from when it
resumes; :mod:`workflow.domain.inputs` loads them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from workflow.domain.inventory import Inventory, build_inventory
from workflow.domain.marks import TriageSource
from workflow.domain.profile_loader import LoadedProfile
from workflow.domain.resources import Resource, SecretValue, SourceRef
from workflow.domain.threat_model import InputFile
from workflow.domain.triage import SourcedSuppression, Suppression

__all__ = ["LoadedInputs", "Notes"]


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
