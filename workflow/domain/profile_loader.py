"""Reading application profiles: ``ktmb.yaml`` and the front matter of architecture notes.

A profile is read like a manifest (:mod:`workflow.domain.safe_yaml`: size, nesting and alias
limits, a key written twice refused) and validated against :class:`~workflow.domain.profile.
Profile`. Every mistake is one line naming the file, the line, the key and the problem
(``ktmb.yaml:7: answers.audit_logging: must be one of enabled, disabled, got 'off'``). Each
value keeps where it was written, so a finding built from an answer points at that line.

Architecture notes may open with a front-matter block (YAML between ``---`` lines); its profile
keys are read the same way (other keys, for other tools, are left alone) and the rest of the
notes stays free text for the model. A key given in two places must say the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from workflow.domain.errors import InventoryError
from workflow.domain.profile import Answers, Profile
from workflow.domain.safe_yaml import Limits, parse_documents
from workflow.domain.yaml_errors import validation_error

__all__ = ["PROFILE_NAMES", "LoadedProfile", "Where", "merge_profiles", "profile_from_notes",
           "read_profile"]

#: The file names of a profile found beside the manifests.
PROFILE_NAMES = ("ktmb.yaml", "ktmb.yml")

#: Rewrites a text value that may hold a secret (the run's redactor), given where it is.
Scrub = Callable[[str, str], str]

_TOP_KEYS = tuple(k for k in Profile.model_fields if k != "answers")
_ANSWER_KEYS = tuple(Answers.model_fields)
_KNOWN = {"": ", ".join(Profile.model_fields), "answers": ", ".join(_ANSWER_KEYS)}


@dataclass(frozen=True)
class Where:
    """Where a value was written: a file and its line."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True)
class LoadedProfile:
    """A validated profile and where each of its values was written.

    ``sources`` is keyed by ``owner``, ``cloud``, ... and ``answers.<question>``.
    """

    profile: Profile = field(default_factory=Profile)
    sources: Mapping[str, Where] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    def where(self, key: str) -> Where | None:
        """Where ``key`` (``owner``, ``answers.audit_logging``, ...) was written, if it was."""
        return self.sources.get(key)

    def to_snapshot(self) -> dict[str, Any]:
        """A JSON-ready snapshot (kept with the run's inputs)."""
        return {"profile": self.profile.model_dump(mode="json"), "files": list(self.files),
                "sources": {k: [w.file, w.line] for k, w in self.sources.items()}}

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> LoadedProfile:
        """Rebuild from :meth:`to_snapshot` output."""
        return cls(profile=Profile.model_validate(data.get("profile") or {}),
                   sources={k: Where(str(v[0]), v[1])
                            for k, v in (data.get("sources") or {}).items()},
                   files=tuple(data.get("files") or ()))


def _validate(label: str, data: Any, lines: Mapping[str, int], first: int | None,
              scrub: Scrub | None) -> LoadedProfile:
    if data is None:
        return LoadedProfile(files=(label,))
    if not isinstance(data, dict):
        raise InventoryError(label, "a profile is a mapping of keys (name, owner, "
                             "data_classification, cloud, exposure, risk_appetite, answers)",
                             line=first)
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        raise validation_error(label, exc, lines, first, _KNOWN) from None
    if scrub is not None:
        profile = _scrubbed(profile, label, scrub)
    sources: dict[str, Where] = {}
    for key in _TOP_KEYS:
        if key in data:
            sources[key] = Where(label, lines.get(f"/{key}", first))
    for key in profile.answers.given():
        sources[f"answers.{key}"] = Where(label, lines.get(f"/answers/{key}", first))
    return LoadedProfile(profile=profile, sources=sources, files=(label,))


def _scrubbed(profile: Profile, label: str, scrub: Scrub) -> Profile:
    """The profile with every free-text value passed through the run's redactor."""
    top = {k: scrub(v, f"{label}#/{k}") for k in ("name", "owner", "risk_appetite")
           if isinstance(v := getattr(profile, k), str)}
    answers = {k: scrub(v, f"{label}#/answers/{k}")
               for k in ("runtime_detection", "admission_control", "cluster_operator")
               if isinstance(v := getattr(profile.answers, k), str)}
    classes = tuple(scrub(v, f"{label}#/data_classification/{i}")
                    for i, v in enumerate(profile.data_classification))
    return profile.model_copy(update={**top, "data_classification": classes,
                                      "answers": profile.answers.model_copy(update=answers)})


def read_profile(label: str, text: str, limits: Limits, *,
                 scrub: Scrub | None = None) -> LoadedProfile:
    """The profile in ``text`` (a ``ktmb.yaml``), validated, with where each value is.

    Raises:
        InventoryError: the text is not a valid profile (one line: file, line, key, problem).
    """
    docs = parse_documents(label, text, limits)
    if len(docs) > 1:
        raise InventoryError(label, f"a profile is one YAML document, this file has "
                             f"{len(docs)}", line=docs[1].line)
    if not docs:
        return LoadedProfile(files=(label,))
    doc = docs[0]
    return _validate(label, doc.body, doc.lines, doc.line, scrub)


def _front_matter(text: str) -> str | None:
    """The YAML of a front-matter block, padded so its lines are the file's; None without one."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip() in {"---", "..."}:
            return "\n" + "\n".join(lines[1:index]) + "\n"
    return None


def profile_from_notes(label: str, text: str, limits: Limits, *,
                       scrub: Scrub | None = None) -> LoadedProfile | None:
    """The profile keys of a notes file's front matter; None when it has none.

    Keys that are not profile keys (a title, tags for a site generator) are left alone.

    Raises:
        InventoryError: the front matter is not YAML, or a profile key in it is invalid.
    """
    block = _front_matter(text)
    if block is None:
        return None
    docs = parse_documents(label, block, limits)
    if not docs or not isinstance(docs[0].body, dict):
        return None
    doc = docs[0]
    mine = {k: v for k, v in doc.body.items() if k in Profile.model_fields}
    if not mine:
        return None
    return _validate(label, mine, doc.lines, doc.line, scrub)


def _value(profile: Profile, key: str) -> Any:
    if key.startswith("answers."):
        return getattr(profile.answers, key.removeprefix("answers."))
    return getattr(profile, key)


def merge_profiles(profiles: Iterable[LoadedProfile]) -> LoadedProfile | None:
    """One profile from the profile file and the notes' front matter, in that order.

    Raises:
        InventoryError: two places give different values for the same key.
    """
    merged: LoadedProfile | None = None
    for item in profiles:
        if merged is None:
            merged = item
            continue
        top: dict[str, Any] = {}
        answers: dict[str, Any] = {}
        sources = dict(merged.sources)
        for key, where in item.sources.items():
            new, old = _value(item.profile, key), _value(merged.profile, key)
            first = merged.where(key)
            if first is not None and new != old:
                shown = ", ".join(new) if isinstance(new, tuple) else str(new)
                before = ", ".join(old) if isinstance(old, tuple) else str(old)
                raise InventoryError(where.file, f"{key}: {shown!r} here but {before!r} in "
                                     f"{first}; say it in one place", line=where.line)
            if first is None:
                sources[key] = where
                if key.startswith("answers."):
                    answers[key.removeprefix("answers.")] = new
                else:
                    top[key] = new
        profile = merged.profile.model_copy(update={
            **top, "answers": merged.profile.answers.model_copy(update=answers)})
        merged = LoadedProfile(profile=profile, sources=sources,
                               files=(*merged.files, *item.files))
    return merged
