"""Text made safe for a terminal or a text export, and the names of control characters.

A resource name, a file name or a reviewer's note may carry terminal escape sequences (``ESC ]
0 ; title BEL`` sets the window title, ``ESC [ 31 m`` turns the text red, the 8-bit ``CSI``
U+009B does the same as ``ESC [``) or Unicode bidi overrides that reorder what follows on the
line. :func:`printable` is applied wherever ktmb writes text a terminal or a person's viewer
interprets: every console line, console logs, error messages and the Markdown, Mermaid and
HTML exports. :func:`json_printable` does the same for a JSON document without changing its
value (JSON already escapes C0 controls; C1 controls and bidi overrides it leaves raw).
"""

from __future__ import annotations

import re

__all__ = ["control_name", "json_printable", "printable"]

#: C0 controls but tab and newline, DEL, and C1 controls: shown as ``\xNN``.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
#: Bidi embeddings, overrides and isolates (U+202A to U+202E, U+2066 to U+2069): dropped.
_BIDI = "\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_CONTROLS}{_BIDI}]")
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_BIDI}]")
_BIDI_CHARS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))

_C0_NAMES = ("NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT",
             "FF", "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB",
             "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US")
_C1_NAMES = ("PAD", "HOP", "BPH", "NBH", "IND", "NEL", "SSA", "ESA", "HTS", "HTJ", "VTS",
             "PLD", "PLU", "RI", "SS2", "SS3", "DCS", "PU1", "PU2", "STS", "CCH", "MW", "SPA",
             "EPA", "SOS", "SGC", "SCI", "CSI", "ST", "OSC", "PM", "APC")


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    return "" if char in _BIDI_CHARS else f"\\x{ord(char):02x}"


def printable(text: str) -> str:
    r"""``text`` with nothing in it that acts on a terminal or reorders a line.

    C0 controls (but tab and newline), DEL and C1 controls become ``\xNN``; bidi embeddings,
    overrides and isolates are removed.
    """
    if _UNSAFE.search(text) is None:  # the common case: nothing to change, no copy
        return text
    return _UNSAFE.sub(_shown, text)


def json_printable(document: str) -> str:
    r"""A JSON document with DEL, C1 controls and bidi characters as ``\uXXXX`` escapes.

    The document's value is unchanged (these characters can only occur inside its strings);
    JSON serialisers escape C0 controls already.
    """
    if _UNSAFE_IN_JSON.search(document) is None:
        return document
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


def control_name(char: str) -> str:
    """``U+001B (ESC)``: a control character's code point and, for C0, DEL and C1, its name."""
    code = ord(char)
    if code < 0x20:
        name: str | None = _C0_NAMES[code]
    elif code == 0x7F:
        name = "DEL"
    elif 0x80 <= code <= 0x9F:
        name = _C1_NAMES[code - 0x80]
    else:
        name = None
    return f"U+{code:04X}" + (f" ({name})" if name else "")
