"""Triage decisions kept in the repository: the suppressions file and resource annotations.

The suppressions file (``ktmb-suppressions.yaml`` beside the manifests, or ``--suppressions
FILE``) holds the same decisions a reviewer takes, each with a reason and an expiry::

    suppressions:
      - id: controls.image-mutable-tag@Deployment/shop/web#web
        status: accepted              # accepted (default), mitigated or false_positive
        owner: team-shop              # an accepted risk needs an owner
        reason: Tags are immutable in our registry.
        expires: 2027-06-30
      - rule: network.*               # a rule (glob), optionally narrowed to resources
        resource: Deployment/shop/*
        status: false_positive
        reason: Cilium policies outside these manifests.
        expires: 2027-01-31

A resource accepts a rule's findings about itself with annotations::

    ktmb.io/accept: controls.run-as-root, controls.writable-root-filesystem
    ktmb.io/accept-reason: The vendor image needs it; tracked in SEC-123.
    ktmb.io/accept-owner: team-shop
    ktmb.io/accept-expires: "2027-03-31"

Every mistake is one line naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from pydantic import BaseModel, ConfigDict, ValidationError

from workflow.domain.bands import FindingStatus
from workflow.domain.errors import InventoryError
from workflow.domain.marks import TriageSource
from workflow.domain.profile_loader import Scrub
from workflow.domain.resources import Resource
from workflow.domain.safe_yaml import Limits, parse_documents
from workflow.domain.triage import SourcedSuppression, Suppression
from workflow.domain.yaml_errors import validation_error

__all__ = ["ACCEPT", "SUPPRESSIONS_NAMES", "annotation_suppressions", "read_suppressions"]

#: The file names of a suppressions file found beside the manifests.
SUPPRESSIONS_NAMES = ("ktmb-suppressions.yaml", "ktmb-suppressions.yml")
#: The annotation that accepts a rule's findings about the annotated resource.
ACCEPT = "ktmb.io/accept"
_RULE = re.compile(r"^[a-z][a-z_]*\.[a-z0-9*?][a-z0-9*?-]*$")
_KNOWN = {"": "suppressions",
          "suppressions": ", ".join(Suppression.model_fields)}


def read_suppressions(label: str, text: str, limits: Limits, *,
                      scrub: Scrub | None = None) -> list[SourcedSuppression]:
    """The entries of a suppressions file, validated, with the line of each.

    ``scrub`` (the run's redactor) rewrites the free text of each entry (owner, reason), so no
    secret written there reaches the model or an output.

    Raises:
        InventoryError: the file is not a valid suppressions file (one line per mistake).
    """
    docs = parse_documents(label, text, limits)
    if len(docs) > 1:
        raise InventoryError(label, f"a suppressions file is one YAML document, this one has "
                             f"{len(docs)}", line=docs[1].line)
    if not docs:
        return []
    doc = docs[0]
    body, lines = doc.body, doc.lines
    if isinstance(body, list):  # a bare list of entries
        body = {"suppressions": body}
        lines = {f"/suppressions{k}": v for k, v in lines.items()}
    if not isinstance(body, dict):
        raise InventoryError(label, "a suppressions file holds 'suppressions:', a list of "
                             "decisions (id or rule, status, owner, reason, expires)",
                             line=doc.line)
    try:
        parsed = _File.model_validate(body)
    except ValidationError as exc:
        raise validation_error(label, exc, lines, doc.line, _KNOWN) from None
    return [SourcedSuppression(entry=_scrubbed(entry, f"{label}#/suppressions/{index}", scrub),
                               source=TriageSource.SUPPRESSIONS_FILE, file=label,
                               line=lines.get(f"/suppressions/{index}", doc.line))
            for index, entry in enumerate(parsed.suppressions)]


def _scrubbed(entry: Suppression, where: str, scrub: Scrub | None) -> Suppression:
    if scrub is None:
        return entry
    return entry.model_copy(update={
        "reason": scrub(entry.reason, f"{where}/reason"),
        "owner": scrub(entry.owner, f"{where}/owner") if entry.owner else None})


class _File(BaseModel):
    """The suppressions file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suppressions: tuple[Suppression, ...] = ()


def _annotation_problem(res: Resource, key: str, problem: str) -> InventoryError:
    pointer = "/metadata/annotations/" + key.replace("~", "~0").replace("/", "~1")
    return InventoryError(res.source.file, f"{res.id}: {key}: {problem}",
                          line=res.line_of(pointer))


def annotation_suppressions(resources: Iterable[Resource]) -> list[SourcedSuppression]:
    """The ``ktmb.io/accept`` annotations of the resources, as accepted-risk decisions.

    Raises:
        InventoryError: an annotation names no rule or a malformed one, or its reason, owner
            or expiry is missing or malformed (one line: file, line, resource, annotation).
    """
    out = []
    for res in resources:
        value = res.annotations.get(ACCEPT)
        if value is None:
            continue
        rules = [r.strip() for r in value.split(",") if r.strip()]
        if not rules or not all(_RULE.match(r) for r in rules):
            raise _annotation_problem(res, ACCEPT, f"must name rule ids (e.g. "
                                      f"controls.run-as-root), got {value[:100]!r}")
        fields = {name: res.annotations.get(f"{ACCEPT}-{name}", "").strip()
                  for name in ("reason", "owner", "expires")}
        for name, why in (("reason", "why the risk is accepted"),
                          ("owner", "who owns the accepted risk"),
                          ("expires", "the last day it holds, YYYY-MM-DD")):
            if not fields[name]:
                raise _annotation_problem(res, ACCEPT, f"needs {ACCEPT}-{name} ({why})")
        try:
            expires = date.fromisoformat(fields["expires"])
        except ValueError:
            raise _annotation_problem(res, f"{ACCEPT}-expires", "must be a date written "
                                      f"YYYY-MM-DD, got {fields['expires'][:40]!r}") from None
        line = res.line_of("/metadata/annotations/" + ACCEPT.replace("/", "~1"))
        for rule in rules:
            entry = Suppression(rule=rule, resource=res.id, status=FindingStatus.ACCEPTED,
                                owner=fields["owner"][:200], reason=fields["reason"][:10_000],
                                expires=expires)
            out.append(SourcedSuppression(entry=entry, source=TriageSource.ANNOTATION,
                                          file=res.source.file, line=line))
    return out
