"""A one-line character grid with a style per cell, turned into a Rich ``Text``.

Renderers draw lifelines, arrows and bars by column, then write labels over
them; the canvas keeps that simple and keeps wide (CJK) characters in two cells.
"""

from __future__ import annotations

import functools

from rich.cells import get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from tracer.renderers.glyphs import NBSP, to_ascii
from tracer.renderers.terminal_safe import safe

_WIDE_TAIL = ""


def clean(text: str, ascii: bool = False) -> str:
    """One printable line (:func:`.terminal_safe.safe`), trimmed; in ASCII when asked."""
    text = safe(text).strip(" ")
    return to_ascii(text) if ascii else text


def cells(text: str) -> int:
    return sum(max(0, get_character_cell_size(c)) for c in text)


def truncate(text: str, width: int, ellipsis: str = "…") -> str:
    """``text`` cut to ``width`` cells, ending in ``ellipsis`` when cut."""
    if cells(text) <= width:
        return text
    room = max(0, width - cells(ellipsis))
    out, used = [], 0
    for c in text:
        w = get_character_cell_size(c)
        if used + w > room:
            break
        out.append(c)
        used += w
    return "".join(out).rstrip() + ellipsis if width >= cells(ellipsis) else ""


def wrap(text: str, width: int, max_lines: int) -> tuple[list[tuple[int, int]], bool]:
    """Greedy word wrap of ``text`` to ``width`` cells, as index ranges into ``text``.

    Lines break at spaces, never between a number and its unit (``0.35 ms``);
    a word longer than the line breaks where a name does (after ``_`` ``.``
    ``/``, before a capital: ``Exception|Middleware``), mid-word only when it
    has no such place. Returns at most ``max_lines`` ranges and whether text
    was left over.
    """
    width = max(1, width)
    ranges: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while len(ranges) < max_lines:
        while i < n and text[i] == " ":
            i += 1
        if i >= n:
            break
        end, used, space = i, 0, -1
        while end < n:
            w = max(0, get_character_cell_size(text[end]))
            if used + w > width:
                break
            if text[end] == " " and not _binds(text, end):
                space = end
            used += w
            end += 1
        if end < n and text[end] != " " and space > i:
            end = space
        elif end < n and text[end] != " ":
            end = _name_break(text, i, end)
        if end == i:  # a character wider than the line
            end = i + 1
        stop = end
        while stop > i and text[stop - 1] == " ":
            stop -= 1
        ranges.append((i, stop))
        i = end
    return ranges, bool(text[i:].strip())


_UNITS = ("ns", "µs", "us", "ms", "s", "B", "KiB", "MiB", "GiB", "%")


def _binds(text: str, at: int) -> bool:
    """The space at ``at`` sits between a number and its unit: no line break there."""
    if at == 0 or not text[at - 1].isdigit():
        return False
    rest = text[at + 1 :]
    return any(
        rest.startswith(u) and (len(rest) == len(u) or not rest[len(u)].isalnum()) for u in _UNITS
    )


def _name_break(text: str, start: int, end: int) -> int:
    """Where a too-long word may break before ``end``: after ``_./-``, before a capital
    that follows a lower-case letter; ``end`` itself when the word has no such place."""
    for k in range(end, start + 1, -1):
        before, after = text[k - 1], text[k]
        if before in "_./-" or (before.islower() and after.isupper()):
            return k
    return end


def _shows_blank(style: str) -> bool:
    return "reverse" in style or " on " in style or "underline" in style


class Canvas:
    """``width`` cells of characters and styles."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.chars: list[str] = [" "] * width
        self.styles: list[str] = [""] * width

    def put(self, x: int, text: str, style: str = "", limit: int | None = None) -> int:
        """Write ``text`` from column ``x`` (clipped at ``limit``); returns the next column."""
        end = self.width if limit is None else min(limit, self.width)
        if text.isascii() and text.isprintable():  # one cell a character: write a slice
            return self._put_narrow(x, text, style, end)
        for c in text:
            if c == NBSP:
                c = " "
            w = get_character_cell_size(c)
            if w <= 0:
                continue
            if x < 0:
                x += w
                continue
            if x + w > end:
                break
            self._set(x, c, style)
            if w == 2:
                self._set(x + 1, _WIDE_TAIL, style)
            x += w
        return x

    def put_cell(self, x: int, char: str, style: str) -> None:
        """Write one narrow (one-cell) character at ``x``: lane glyphs, row after row."""
        if 0 <= x < self.width:
            self._set(x, char, style)

    def _put_narrow(self, x: int, text: str, style: str, end: int) -> int:
        if x < 0:
            if x + len(text) <= 0:
                return x + len(text)
            text, x = text[-x:], 0
        count = min(len(text), end - x)
        if count <= 0:
            return x
        chars = self.chars
        stop = x + count
        # never leave half of a wide character behind, at either end of the slice
        if chars[x] == _WIDE_TAIL and x > 0:
            chars[x - 1] = " "
        if stop < self.width and chars[stop] == _WIDE_TAIL:
            chars[stop] = " "
        chars[x:stop] = text[:count]
        self.styles[x:stop] = [style] * count
        return stop

    def _set(self, x: int, char: str, style: str) -> None:
        # never leave half of a wide character behind
        if self.chars[x] == _WIDE_TAIL and x > 0:
            self.chars[x - 1] = " "
        elif x + 1 < self.width and self.chars[x + 1] == _WIDE_TAIL and char != _WIDE_TAIL:
            self.chars[x + 1] = " "
        self.chars[x] = char
        self.styles[x] = style

    def style(self, x: int, style: str) -> None:
        if 0 <= x < self.width:
            self.styles[x] = style

    def char(self, x: int) -> str:
        return self.chars[x] if 0 <= x < self.width else ""

    def to_text(self) -> Text:
        text = Text(no_wrap=True, overflow="crop", end="\n")
        for run, style in self.runs():
            text.append(run, style or None)
        return text

    def segments(self) -> list[Segment]:
        """The line as Rich segments (faster to print than a ``Text``), newline included."""
        out = [Segment(run, Style.parse(style) if style else None) for run, style in self.runs()]
        out.append(Segment.line())
        return out

    def runs(self) -> list[tuple[str, str]]:
        """``(text, style)`` runs of the line, trailing blanks dropped."""
        chars = self.chars
        end = self._content_end()
        if end == 0:
            return []
        blank = _blank_style
        # unstyled blanks keep runs short and stop SVG viewers eating leading spaces
        styles = [
            blank(cell_style) if char == " " else cell_style
            for char, cell_style in zip(chars[:end], self.styles[:end], strict=True)
        ]
        out: list[tuple[str, str]] = []
        start = 0
        for i in range(1, end):
            if styles[i] != styles[i - 1]:
                out.append(("".join(chars[start:i]), styles[start]))
                start = i
        out.append(("".join(chars[start:end]), styles[start]))
        return out

    def plain(self) -> str:
        """The line's characters, trailing blanks dropped (what ``runs`` prints uncoloured)."""
        return "".join(self.chars[: self._content_end()])

    def _content_end(self) -> int:
        """The column after the last non-blank cell."""
        chars = self.chars
        end = self.width
        while end > 0 and chars[end - 1] in (" ", _WIDE_TAIL):
            end -= 1
        return end


@functools.lru_cache(maxsize=256)
def _blank_style(style: str) -> str:
    """The style a blank cell keeps: none, unless the style shows on blanks."""
    return style if _shows_blank(style) else ""
