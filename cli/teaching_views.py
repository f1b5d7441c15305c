"""The trace command's teaching views: ``--step N``, ``--steps`` and ``--compare``.

They draw in the terminal only, one screen each (100 × 40 on a projector), so
they refuse the options that write documents instead.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from tracer.cli.errors import CLIError

#: a screen's lines under its header, leaving the last row for the pager's hint
SCREEN_BODY = 38
DEFAULT_WIDTH = 100


def check_options(
    step: int | None,
    steps: bool,
    compare: bool,
    repeat: int,
    fmt: str | None,
    output: Path | None,
    url: str | None,
    load: Path | None,
) -> int:
    """Fail early on combinations that cannot work; the number of requests to send."""
    chosen = [
        name for name, on in (("--step", step), ("--steps", steps), ("--compare", compare)) if on
    ]
    if len(chosen) > 1:
        raise CLIError(f"give one of {', '.join(chosen)}, not both")
    if not chosen:
        return repeat
    if output is not None or fmt is not None:
        raise CLIError(f"{chosen[0]} draws its own view in the terminal: drop --format and -o")
    if compare:
        if url is not None or load is not None:
            raise CLIError(
                "--compare sends the request itself, in-process: not with --url or --load"
            )
        return max(repeat, 2)
    return repeat


def show_focus(
    console: Any, trace: Any, step: int | None, *, width: int | None, ascii: bool, color: bool
) -> None:
    """``--step N``: one screen; ``--steps`` (``step`` is None): every step, paged."""
    from tracer.cli.focus import focus_lines
    from tracer.cli.pager import page
    from tracer.model import STEP_NAMES

    w = width or min(console.width, 160) or DEFAULT_WIDTH
    if step is not None:
        for line in focus_lines(trace, step, width=w, ascii=ascii, height=SCREEN_BODY + 1):
            console.print(line)
        return
    screens = [
        partial(focus_lines, trace, n, width=w, ascii=ascii, height=SCREEN_BODY)
        for n in range(1, 11)
    ]
    headers = [f"Step {n}/10 · {STEP_NAMES[n]}" for n in range(1, 11)]
    page(console, screens, headers, clear=color)


def show_compare(
    console: Any, first: Any, last: Any, count: int, *, width: int | None, ascii: bool
) -> None:
    """``--compare``: request 1 against request ``count``."""
    from tracer.cli.compare import compare_lines

    w = width or min(console.width, 160) or DEFAULT_WIDTH
    for line in compare_lines(first, last, count, width=w, ascii=ascii):
        console.print(line)
