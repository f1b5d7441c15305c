"""The characters the terminal renderers draw with: a Unicode set and an ASCII fallback.

Box-drawing and block characters are ambiguous-width in CJK locales and
missing from some fonts, so every renderer takes ``ascii=True`` and then draws
only with :data:`ASCII` (and passes labels through :func:`to_ascii`).
"""

from __future__ import annotations

from dataclasses import dataclass

NBSP = "\u00a0"


@dataclass(frozen=True, slots=True)
class Glyphs:
    # lifelines
    active: str = "┃"
    idle: str = "│"
    unreached: str = "┆"
    gap_active: str = "╏"
    gap_idle: str = "╎"
    # arrows
    call: str = "─"
    ret: str = "╌"
    head_right: str = "▶"
    head_left: str = "◀"
    out_active: str = "┠"
    out_idle: str = "├"
    back_active: str = "┨"
    back_idle: str = "┤"
    relay_right: str = "╂"
    # markers
    work: str = "●"
    event: str = "◇"
    error: str = "✖"
    raised: str = "✗"
    result: str = "⇒"
    ellipsis: str = "…"
    sep: str = "·"
    vdots: str = "⋮"
    warn: str = "⚠"
    empty_set: str = "∅"
    arrow: str = "→"
    chevron: str = "›"
    # frame
    rule: str = "─"
    tick_top: str = "┬"
    tick_bottom: str = "┴"
    # waterfall
    full: str = "█"
    eighths: tuple[str, ...] = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")
    right_half: str = "▐"
    right_eighth: str = "▕"
    wait: str = "─"
    suspended: str = "┈"
    response: str = "▼"
    response_line: str = "┊"
    axis_break: str = "≈"
    axis_end: str = "┤"
    mark: str = "◆"
    untraced: str = "░"
    #: a call's time while a call beside it ran (the one started later owns it)
    parallel: str = "═"
    # tree
    branch: str = "├─ "
    last: str = "└─ "
    pipe: str = "│  "
    nested: str = "└ "
    micro: str = "µ"


UNICODE = Glyphs()
ASCII = Glyphs(
    active="|",
    idle=":",
    unreached=".",
    gap_active="|",
    gap_idle=":",
    call="-",
    ret=".",
    head_right=">",
    head_left="<",
    out_active="|",
    out_idle=":",
    back_active="|",
    back_idle=":",
    relay_right="|",
    work="*",
    event="o",
    error="X",
    raised="x",
    result="=>",
    ellipsis="...",
    sep="-",
    vdots=":",
    warn="!",
    empty_set="-",
    arrow="->",
    chevron=">",
    rule="-",
    tick_top="+",
    tick_bottom="+",
    full="#",
    eighths=("", "|", "|", "|", "#", "#", "#", "#"),
    right_half="#",
    right_eighth="|",
    wait="-",
    suspended=".",
    response="v",
    response_line=":",
    axis_break="~",
    axis_end="|",
    mark="*",
    untraced="?",
    parallel="=",
    branch="|- ",
    last="`- ",
    pipe="|  ",
    nested="`-",
    micro="u",
)

_ASCII_FOR = {
    "→": "->",
    "←": "<-",
    "⇒": "=>",
    "…": "...",
    "·": "-",
    "µ": "u",
    "×": "x",
    "›": ">",
    "✓": "ok",
    "✗": "x",
    "✖": "X",
    "≈": "~",
    "★": "*",
    "∥": "||",
    "═": "=",
    "–": "-",
    "—": "-",
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
}


def to_ascii(text: str) -> str:
    """``text`` with known symbols spelled in ASCII and anything else non-ASCII as ``?``."""
    if text.isascii():
        return text
    # a no-break space survives: the canvas draws it as a space after wrapping
    return "".join(c if c.isascii() or c == NBSP else _ASCII_FOR.get(c, "?") for c in text)


def glyphs_for(ascii: bool) -> Glyphs:
    return ASCII if ascii else UNICODE
