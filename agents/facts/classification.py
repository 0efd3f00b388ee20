"""Data classification: from labels and annotations, from notes, and what it calls for."""

from __future__ import annotations

import re
from collections.abc import Iterable

from workflow.domain.inventory import Inventory

__all__ = [
    "SENSITIVE_CLASSES",
    "classification_from_text",
    "classification_of",
    "classification_source",
    "most_sensitive",
    "normalise_classification",
    "regulations_for",
]

#: Data classifications that call for more care (normalised names).
SENSITIVE_CLASSES = frozenset({"cardholder", "personal", "confidential", "restricted", "health"})

_CLASS_KEYS = ("data-classification", "data_classification", "dataclassification",
               "classification", "data-class", "data-sensitivity", "sensitivity")
_CLASS_VALUES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)pci|cardholder|payment-card|\bchd\b"), "cardholder"),
    (re.compile(r"(?i)phi|hipaa|health|medical"), "health"),
    (re.compile(r"(?i)pii|personal|gdpr|customer-data|user-data"), "personal"),
    (re.compile(r"(?i)restricted|secret|highly"), "restricted"),
    (re.compile(r"(?i)confidential|sensitive|private"), "confidential"),
    (re.compile(r"(?i)internal"), "internal"),
    (re.compile(r"(?i)public"), "public"),
)


def normalise_classification(value: str | None) -> str | None:
    """A classification value in the normalised vocabulary (``pci`` -> ``cardholder``, ...)."""
    if not value:
        return None
    for pattern, normal in _CLASS_VALUES:
        if pattern.search(value):
            return normal
    return value.lower()


#: Normalised classifications, most sensitive first.
_SENSITIVITY = ("cardholder", "health", "personal", "restricted", "confidential", "internal",
                "public")


def most_sensitive(values: Iterable[str]) -> str | None:
    """The most sensitive of several classifications (normalised), or None for none."""
    normal = [n for n in (normalise_classification(v) for v in values) if n]
    if not normal:
        return None
    return min(normal, key=lambda n: (_SENSITIVITY.index(n) if n in _SENSITIVITY
                                      else len(_SENSITIVITY), n))


_NOTE_CLASS = re.compile(
    r"(?im)^[\s>*#|-]*\**data[ _-]?classification\**\s*[:=|]\s*\**([A-Za-z][\w /-]{1,40})")


def classification_from_text(text: str) -> str | None:
    """The data classification an architecture or review note declares, normalised.

    Recognises a line such as ``Data classification: PCI`` (Markdown emphasis, list or table
    syntax allowed); the first such line wins.
    """
    match = _NOTE_CLASS.search(text)
    return normalise_classification(match.group(1).strip()) if match else None


def _class_key(mapping: dict[str, str]) -> str | None:
    """The label or annotation key that carries a classification, if any."""
    for key in sorted(mapping):
        name = key.rsplit("/", 1)[-1].lower()
        if name in _CLASS_KEYS or any(name.endswith(k) for k in _CLASS_KEYS[:3]):
            return key
    return None


def _class_of(mapping: dict[str, str]) -> str | None:
    key = _class_key(mapping)
    return normalise_classification(mapping[key]) if key is not None else None


def classification_source(inv: Inventory, resource_id: str) -> tuple[str, str, str] | None:
    """Where a resource's classification is written: (resource id, JSON pointer, raw value).

    The same search as :func:`classification_of`: the resource's labels and annotations, its
    pod template's, then its namespace's.
    """
    res = inv.get(resource_id)
    if res is None:
        return None
    wl = inv.workload(resource_id)
    template = wl.pod.path.rsplit("/", 1)[0] + "/metadata" if wl is not None else None
    places: list[tuple[str, str, dict[str, str]]] = [
        (res.id, "/metadata/labels", res.labels),
        (res.id, "/metadata/annotations", res.annotations)]
    if wl is not None and template is not None and wl.kind != "Pod":
        places += [(res.id, f"{template}/labels", wl.pod.labels),
                   (res.id, f"{template}/annotations", wl.pod.annotations)]
    ns = inv.get(f"Namespace/{res.namespace}") if res.namespace else None
    if ns is not None:
        places += [(ns.id, "/metadata/labels", ns.labels),
                   (ns.id, "/metadata/annotations", ns.annotations)]
    for rid, base, mapping in places:
        key = _class_key(mapping)
        if key is not None:
            return rid, f"{base}/{key.replace('~', '~0').replace('/', '~1')}", mapping[key]
    return None


def classification_of(inv: Inventory, resource_id: str) -> str | None:
    """The data classification of a resource (its labels/annotations, pod template, namespace).

    Values are normalised: ``cardholder``, ``personal``, ``health``, ``restricted``,
    ``confidential``, ``internal``, ``public`` (or the raw value when unknown).
    """
    res = inv.get(resource_id)
    if res is None:
        return None
    found = _class_of(res.labels) or _class_of(res.annotations)
    wl = inv.workload(resource_id)
    if found is None and wl is not None:
        found = _class_of(wl.pod.labels) or _class_of(wl.pod.annotations)
    if found is None and res.namespace:
        ns = inv.get(f"Namespace/{res.namespace}")
        if ns is not None:
            found = _class_of(ns.labels) or _class_of(ns.annotations)
    return found


def regulations_for(data_class: str | None) -> tuple[str, ...]:
    """Regulatory references that a data classification calls for."""
    if data_class == "cardholder":
        return ("PCI-DSS-4.0:1.3.1", "PCI-DSS-4.0:3.5.1", "PCI-DSS-4.0:7.2.1",
                "PCI-DSS-4.0:10.2.1")
    if data_class in {"personal", "health"}:
        return ("GDPR:Art.32", "GDPR:Art.25")
    return ()
