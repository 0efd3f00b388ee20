"""Manifest text read safely: size and encoding first, then YAML within its limits.

Every text is pre-scanned from the YAML event stream before any node is built
(:func:`parse_documents`): nesting depth, documents, aliases and the alias-expanded size of each
document are checked there, the same way for every text, so a YAML bomb or a deeply nested text
is refused before it costs anything. Every problem is an :class:`InventoryError` naming the file,
and the line where the parser knows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from workflow.domain.errors import InventoryError
from workflow.domain.printable import control_name
from workflow.domain.settings import Settings

__all__ = ["Document", "Limits", "decode", "input_limit_error", "parse_documents", "read_file",
           "read_stream"]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class Limits:
    """What one input may hold (``KTMB_MAX_*``, documented in the README's "Safety limits")."""

    max_file_bytes: int
    max_documents: int
    max_depth: int
    max_aliases: int
    max_nodes: int
    #: The size of one object as loaded (:class:`_Builder`), and of all inputs together.
    max_object_bytes: int
    max_input_bytes: int
    #: Containers of one pod spec, and of all pod specs together.
    max_containers: int
    max_total_containers: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits ``settings`` configure."""
        return cls(settings.max_file_bytes, settings.max_documents, settings.max_depth,
                   settings.max_aliases, settings.max_nodes, settings.max_object_bytes,
                   settings.max_input_bytes, settings.max_containers,
                   settings.max_total_containers)


def input_limit_error(label: str, limits: Limits, line: int | None = None) -> InventoryError:
    """The error of inputs that together are over ``KTMB_MAX_INPUT_BYTES``."""
    return InventoryError(label, f"the inputs are larger than {limits.max_input_bytes:,} bytes "
                          "as loaded, all files together (KTMB_MAX_INPUT_BYTES)", line=line)


def read_file(path: Path, limits: Limits) -> bytes:
    """The bytes of ``path``; refused over the size limit, without reading more than it."""
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


def read_stream(stream: BinaryIO, label: str, limits: Limits) -> bytes:
    """The bytes of standard input (or another stream); refused over the size limit."""
    data = stream.read(limits.max_file_bytes + 1)
    if len(data) > limits.max_file_bytes:
        raise InventoryError(label, "standard input is over the limit of "
                             f"{limits.max_file_bytes:,} bytes (KTMB_MAX_FILE_BYTES)")
    return data


def decode(label: str, data: bytes) -> str:
    """``data`` as UTF-8 text without a byte-order mark; binary and other encodings refused."""
    if b"\0" in data:
        raise InventoryError(label, "binary file, not YAML or JSON text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InventoryError(label, f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x} "
                             f"at offset {exc.start})") from None
    return text.removeprefix("\ufeff")


#: What YAML allows in a text (YAML 1.1 "printable"; the reader refuses anything else).
_NOT_IN_YAML = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd"
                          "\U00010000-\U0010ffff]")
#: YAML's short escapes of control characters in double-quoted strings.
_YAML_ESCAPES = {"\x00": "\\0", "\x07": "\\a", "\x08": "\\b", "\x0b": "\\v", "\x0c": "\\f",
                 "\x1b": "\\e"}


def _control_problem(label: str, text: str) -> InventoryError | None:
    """The first character YAML does not allow, with its line and how to write it instead."""
    found = _NOT_IN_YAML.search(text)
    if found is None:
        return None
    char = found.group()
    if label.lower().endswith(".json") or ord(char) > 0xFF:
        hint = f"\\u{ord(char):04x}"
    else:
        hint = _YAML_ESCAPES.get(char, f"\\x{ord(char):02x}")
    return InventoryError(label, f"control character {control_name(char)} is not allowed in "
                          f'YAML; remove it or write it as "{hint}" in a double-quoted string',
                          line=text.count("\n", 0, found.start()) + 1)


def _yaml_problem(label: str, exc: yaml.YAMLError, text: str) -> InventoryError:
    if isinstance(exc, yaml.reader.ReaderError):  # says only "ReaderError": name the character
        control = _control_problem(label, text)
        if control is not None:
            return control
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or type(exc).__name__
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    return InventoryError(label, message, line=mark.line + 1 if mark is not None else None)


def _line(event: yaml.Event) -> int | None:
    mark = event.start_mark
    return mark.line + 1 if mark is not None else None


def _too_many_nodes(label: str, limits: Limits, expanded: bool, event: yaml.Event) -> None:
    if expanded:
        raise InventoryError(label, f"alias expansion exceeds {limits.max_nodes:,} nodes "
                             "(a YAML bomb?)", line=_line(event))
    raise InventoryError(label, f"more than {limits.max_nodes:,} YAML nodes in one document "
                         "(KTMB_MAX_NODES)", line=_line(event))


def _prescan(label: str, text: str, limits: Limits) -> None:
    """Check depth, documents, aliases and the alias-expanded size from the event stream.

    A node counts once for each place it appears: an alias counts the nodes of the collection
    it names, and mapping keys count like values. The event parser is iterative, so this cannot
    be driven into deep recursion; it refuses a YAML bomb before any node is built.
    """
    depth = 0
    documents = 0
    aliases = 0
    sizes: list[int] = [0]  # nodes under each open collection (alias expansion counted)
    total = 0  # sum(sizes): the alias-expanded size of the current document so far
    expanded = False  # whether an alias of the current document named a collection
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
                                         "(KTMB_MAX_DEPTH)", line=_line(event))
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
                expanded = expanded or size > 1
                sizes[-1] += size
                total += size
            elif cls is yaml.DocumentStartEvent:
                documents += 1
                if documents > limits.max_documents:
                    raise InventoryError(label, f"more than {limits.max_documents:,} documents "
                                         "(KTMB_MAX_DOCUMENTS)")
                sizes = [0]
                total = 0
                expanded = False
            if total > limits.max_nodes:
                _too_many_nodes(label, limits, expanded, event)
    except yaml.YAMLError as exc:
        raise _yaml_problem(label, exc, text) from None


def _key_text(constructor: SafeConstructor, key_node: Node) -> str:
    """A mapping key as the text it is stored under (``80``, ``true`` and ``"80"`` alike)."""
    if type(key_node) is ScalarNode and key_node.tag == _STR_TAG:
        return str(key_node.value)
    key = constructor.construct_object(key_node, deep=True)
    return "" if key is None else str(key).lower() if isinstance(key, bool) else str(key)


class _Builder:
    """Turns composed YAML nodes into Python values and records the line of every pointer.

    A key written twice in one mapping is refused, as the Kubernetes API server refuses it:
    parsers keep the last one, so what a reviewer reads first is not what is analysed. Keys
    merged in with ``<<`` are not written in the mapping, and a key written there overrides
    them (YAML's merge rule).

    It also measures what it builds, as it builds it: an object's size *as loaded* is about
    what a run keeps of it, its JSON (every alias expanded) plus its index of lines (a JSON
    pointer and a line number per node), counted as the length of every pointer, key and
    scalar plus the punctuation around them (10 bytes a node, 16 a key with a string value).
    It is about three times the YAML text of an ordinary manifest, and it is what a text
    that expands cannot hide: a long string behind thousands of aliases, or a long key above a
    long list (every pointer below it repeats the key). Building stops as soon as an object
    (a document, or an item of a ``*List``) is over ``KTMB_MAX_OBJECT_BYTES`` or all inputs are
    over ``KTMB_MAX_INPUT_BYTES``, so memory never holds more than that.
    """

    def __init__(self, label: str, limits: Limits, used: int) -> None:
        self.label = label
        self.limits = limits
        self.constructor = SafeConstructor()
        #: For a mapping with ``<<`` merges: where its own pairs start once they are flattened
        #: (the merged pairs come first; an alias builds the same node again, merges gone).
        self.own_from: dict[int, int] = {}
        self.size = 0  # the text's documents so far, as loaded
        self.run_stop = limits.max_input_bytes - used
        self.object_stop = self.stop = self.run_stop
        self.object_line = 1
        self.items_are_objects = False

    def build_document(self, node: Node, lines: dict[str, int]) -> Any:
        """The value of a document's root node (an object, or a list of objects)."""
        self.object_line = node.start_mark.line + 1
        self.object_stop = self.size + self.limits.max_object_bytes
        self.stop = min(self.run_stop, self.object_stop)
        self.items_are_objects = type(node) is MappingNode and any(
            type(k) is ScalarNode and k.value == "kind" and type(v) is ScalarNode
            and str(v.value).endswith("List") for k, v in node.value)
        return self.build(node, "", lines)

    def build(self, node: Node, path: str, lines: dict[str, int]) -> Any:
        lines[path or "/"] = node.start_mark.line + 1
        self.size += len(path) + 10
        if self.size > self.stop:
            self._too_large()
        cls = type(node)
        if cls is ScalarNode:
            self.size += len(node.value)
            if node.tag == _STR_TAG:  # the common case, without the constructor's dispatch
                return node.value
            return self.constructor.construct_object(node, deep=True)
        if cls is SequenceNode:
            if path == "/items" and self.items_are_objects:
                return self._items(node, lines)
            return [self.build(child, f"{path}/{i}", lines) for i, child in enumerate(node.value)]
        if cls is MappingNode:
            own = node.value
            self.constructor.flatten_mapping(cast(MappingNode, node))
            if node.value is not own:  # merged pairs were put in front of its own
                self.own_from[id(node)] = len(node.value) - len(own)
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if type(key_node) is ScalarNode and key_node.tag == _STR_TAG:
                    text = key_node.value
                else:
                    text = _key_text(self.constructor, key_node)
                if text in out:
                    self._check_unique(node, text)
                ptr = f"{path}/{text.replace('~', '~0').replace('/', '~1')}" \
                    if "~" in text or "/" in text else f"{path}/{text}"
                if type(value_node) is ScalarNode and value_node.tag == _STR_TAG:
                    value = value_node.value
                    self.size += len(ptr) + len(text) + len(value) + 16
                    if self.size > self.stop:
                        self._too_large()
                    lines[ptr] = value_node.start_mark.line + 1
                    out[text] = value
                else:
                    self.size += len(text)
                    out[text] = self.build(value_node, ptr, lines)
            return out
        return None  # pragma: no cover - the composer yields only the three node types

    def _items(self, node: Node, lines: dict[str, int]) -> list[Any]:
        """The items of a ``*List``: each an object held to the object limit on its own."""
        outer_stop, outer_line, start = self.object_stop, self.object_line, self.size
        out = []
        for i, child in enumerate(node.value):
            self.object_line = child.start_mark.line + 1
            self.object_stop = self.size + self.limits.max_object_bytes
            self.stop = min(self.run_stop, self.object_stop)
            out.append(self.build(child, f"/items/{i}", lines))
        self.object_stop = outer_stop + (self.size - start)  # the List's own limit, items aside
        self.object_line = outer_line
        self.stop = min(self.run_stop, self.object_stop)
        return out

    def _too_large(self) -> None:
        if self.size > self.run_stop:
            raise input_limit_error(self.label, self.limits, self.object_line)
        raise InventoryError(self.label, f"object is larger than "
                             f"{self.limits.max_object_bytes:,} bytes as loaded "
                             "(KTMB_MAX_OBJECT_BYTES)", line=self.object_line)

    def _check_unique(self, node: Node, text: str) -> None:
        """Refuse ``text`` if the mapping itself writes it twice (a merged one may repeat)."""
        own = node.value[self.own_from.get(id(node), 0):]
        lines = [k.start_mark.line + 1 for k, _ in own if _key_text(self.constructor, k) == text]
        if len(lines) > 1:
            raise InventoryError(self.label, f"duplicate key {text!r} (first at line {lines[0]})",
                                 line=lines[1])


@dataclass
class Document:
    """One YAML document: its value, first line, index in the text, and pointer lines."""

    body: Any
    line: int
    index: int
    #: The line of every JSON pointer in ``body`` (``/`` for the document itself).
    lines: dict[str, int]
    #: Its size as loaded (see :class:`_Builder`).
    size: int


def parse_documents(label: str, text: str, limits: Limits, *, used: int = 0) -> list[Document]:
    """The non-empty documents of a YAML (or JSON) text, each with the line of every pointer.

    The text is pre-scanned first (:func:`_prescan`): nothing is built from a text over a limit.
    ``used`` is the size as loaded of the inputs read before this one (``KTMB_MAX_INPUT_BYTES``
    counts them all).
    """
    _prescan(label, text, limits)
    builder = _Builder(label, limits, used)
    docs: list[Document] = []
    try:
        for index, node in enumerate(yaml.compose_all(text, Loader=_Loader)):
            if node is None:
                continue
            lines: dict[str, int] = {}
            start = builder.size
            body = builder.build_document(node, lines)
            if body is None:  # an empty document (only comments, or a bare ---)
                continue
            docs.append(Document(body=body, line=node.start_mark.line + 1, index=index,
                                 lines=lines, size=builder.size - start))
    except yaml.YAMLError as exc:
        raise _yaml_problem(label, exc, text) from None
    except RecursionError:  # a KTMB_MAX_DEPTH deeper than the interpreter can recurse
        raise InventoryError(label, "nesting too deep to read") from None
    return docs
