"""The one function every string goes through before it reaches a terminal.

Request paths, route templates, span names, attribute values and exception
messages come from the network or the app: ``/%1b]0;owned%07%1b[2J`` decoded
would retitle the window and clear the screen of whoever runs
``trace-request list``. :func:`safe` removes whole escape sequences (CSI, OSC,
DCS and friends, 7- and 8-bit), every other C0/C1 control character and DEL,
and the Unicode format characters that reorder or hide text (bidi overrides
and isolates, zero-width joiners, BOM), and collapses whitespace runs into one
space, so the result is one printable line. (issue 13, finding 9)
"""

from __future__ import annotations

import re

__all__ = ["safe"]

#: ESC/C1-introduced sequences: CSI ... final, OSC/DCS/SOS/PM/APC ... ST or BEL, ESC + one char
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI
    r"|(?:\x1b[]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # strings
    r"|\x1b[ -/]*[0-~]?"  # any other escape (charset selection, RIS, ...)
)
_WHITESPACE = re.compile(r"[\t\n\v\f\r \x85\u2028\u2029]+")
NBSP = "\u00a0"


def safe(text: str) -> str:
    """``text`` as one line of printable characters: no escapes, controls or bidi tricks."""
    if text.isascii() and text.isprintable():  # the common case: nothing to remove
        return text
    text = _SEQUENCE.sub("", text)
    text = _WHITESPACE.sub(" ", text)
    # isprintable() is False for C0/C1, DEL and every format (Cf) character: bidi
    # overrides/isolates, zero-width (non-)joiners, the BOM; a no-break space stays
    return "".join(c for c in text if c.isprintable() or c == NBSP)
