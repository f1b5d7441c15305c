"""Screens one at a time: next / previous / quit in a terminal, all in turn anywhere else.

Used by ``trace --steps`` (one screen per step) and ``tour`` (one per stop).
Each screen is a list of laid-out lines that already fits the width, preceded
by a header line (``Stop 3/15 · …``) that piped output and tests look for.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text

NEXT = frozenset({"n", " ", "\r", "\n", "j", "l", "\x1b[C", "\x1b[B", "\x1bOC", "\x1bOB"})
PREVIOUS = frozenset({"p", "k", "h", "\x1b[D", "\x1b[A", "\x1bOD", "\x1bOA"})
QUIT = frozenset({"q", "\x1b", "\x03", "\x04"})
HINT = " n/→ next · p/← previous · q quit"


def interactive(console: Any) -> bool:
    """A person at a terminal: input and output both a TTY."""
    return bool(sys.stdin.isatty() and console.is_terminal)


def read_key() -> str:
    """One key press (an arrow key arrives as its whole escape sequence)."""
    import typer  # its getchar: click is vendored, not installed

    key = typer.getchar()
    return key.lower() if len(key) == 1 else key  # "\x1b[D" is not "\x1b[d"


def page(
    console: Any,
    screens: Sequence[Callable[[], list[Text]]],
    headers: Sequence[str],
    *,
    start: int = 0,
    key: Callable[[], str] = read_key,
    live: bool | None = None,
    clear: bool = True,
) -> None:
    """Show ``screens`` (built on demand, each once) with their header lines.

    In a terminal: one at a time, n/→/space next, p/← previous, q quit; the
    screen is cleared between them when ``clear`` (not with ``--no-color``,
    which writes no escape code). Elsewhere: every screen in turn.
    """
    built: dict[int, list[Text]] = {}

    def show(index: int) -> None:
        if index not in built:
            built[index] = screens[index]()
        console.print(Text(headers[index], "bold"))
        for line in built[index]:
            console.print(line)

    if not (interactive(console) if live is None else live):
        for index in range(start, len(screens)):
            show(index)
        return
    index = start
    while True:
        if clear:
            console.clear()
        show(index)
        console.print(Text(HINT, "dim"), end="")
        pressed = key()
        console.print()
        if pressed in QUIT:
            return
        if pressed in PREVIOUS:
            index = max(0, index - 1)
        elif pressed in NEXT:
            if index == len(screens) - 1:
                return
            index += 1
