"""The files beside an application's manifests: its profile and its suppressions file.

``ktmb.yaml`` (or ``ktmb.yml``) and ``ktmb-suppressions.yaml`` (or ``.yml``) found while
reading a manifest directory, or beside a manifest file named on the command line, are not
manifests: they are the application's profile and suppressions file. A file named explicitly
(``--profile``, ``--suppressions``) wins over what is found; two different files found for
the same role are refused (name one). The architecture notes' front matter is merged into the
profile, and ``ktmb.io/accept`` annotations join the suppressions file's entries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Literal

from workflow.domain.errors import InventoryError
from workflow.domain.profile_loader import (
    PROFILE_NAMES,
    LoadedProfile,
    Scrub,
    merge_profiles,
    profile_from_notes,
    read_profile,
)
from workflow.domain.resources import Resource
from workflow.domain.safe_yaml import Limits, decode
from workflow.domain.suppressions import (
    SUPPRESSIONS_NAMES,
    annotation_suppressions,
    read_suppressions,
)
from workflow.domain.threat_model import InputFile
from workflow.domain.triage import SourcedSuppression

__all__ = ["SideFile", "SideFiles", "SideRole", "role_of", "siblings"]

SideRole = Literal["profile", "suppressions"]


def role_of(label: str) -> SideRole | None:
    """What a file found among the manifests is by its name: a profile, suppressions, or None."""
    name = PurePath(label.replace("\\", "/")).name.lower()
    if name in PROFILE_NAMES:
        return "profile"
    if name in SUPPRESSIONS_NAMES:
        return "suppressions"
    return None


def siblings(paths: Sequence[str | Path]) -> list[Path]:
    """The profile and suppressions files beside manifest files named on the command line.

    (Directories are read whole: what they hold is found as they are read.)
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if str(raw) == "-" or not path.is_file():
            continue
        for name in (*PROFILE_NAMES, *SUPPRESSIONS_NAMES):
            candidate = path.parent / name
            if candidate.is_file() and candidate not in found:
                found.append(candidate)
    return found


@dataclass(frozen=True)
class SideFile:
    """A profile or suppressions file's contents and its name in the output."""

    label: str
    data: bytes
    role: SideRole
    explicit: bool = False


@dataclass
class SideFiles:
    """The side files met while loading an application's inputs; :meth:`load` reads them."""

    items: list[SideFile] = field(default_factory=list)

    def add(self, item: SideFile) -> None:
        """Keep a side file (an explicit one, or one found among the manifests)."""
        self.items.append(item)

    def _chosen(self, role: SideRole) -> SideFile | None:
        explicit = [i for i in self.items if i.role == role and i.explicit]
        if explicit:
            return explicit[0]
        found = {hashlib.sha256(i.data).hexdigest(): i for i in self.items if i.role == role}
        if len(found) > 1:
            names = ", ".join(sorted(i.label for i in self.items if i.role == role))
            flag = "--profile" if role == "profile" else "--suppressions"
            raise InventoryError(names, f"{len(found)} different {role} files found; name the "
                                 f"one to use with {flag}")
        return next(iter(found.values()), None)

    def load(self, limits: Limits, *, notes: Iterable[tuple[str, str]],
             resources: Iterable[Resource], scrub: Scrub | None = None,
             ) -> tuple[LoadedProfile | None, list[SourcedSuppression], list[InputFile]]:
        """The merged profile, every suppression and the input files they came from.

        ``notes`` are (label, text) of the architecture notes, read for front matter.

        Raises:
            InventoryError: a file is not valid (one line: file, line, key, problem), or two
                places disagree.
        """
        files: list[InputFile] = []
        parts: list[LoadedProfile] = []
        suppressions: list[SourcedSuppression] = []
        profile_file = self._chosen("profile")
        if profile_file is not None:
            text = decode(profile_file.label, profile_file.data)
            parts.append(read_profile(profile_file.label, text, limits, scrub=scrub))
            files.append(InputFile(path=profile_file.label, role="profile",
                                   sha256=hashlib.sha256(profile_file.data).hexdigest()))
        for label, text in notes:
            found = profile_from_notes(label, text, limits, scrub=scrub)
            if found is not None:
                parts.append(found)
        chosen = self._chosen("suppressions")
        if chosen is not None:
            suppressions += read_suppressions(chosen.label, decode(chosen.label, chosen.data),
                                              limits, scrub=scrub)
            files.append(InputFile(path=chosen.label, role="suppressions",
                                   sha256=hashlib.sha256(chosen.data).hexdigest()))
        suppressions += annotation_suppressions(resources)
        return merge_profiles(parts), suppressions, files
