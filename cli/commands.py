"""The named commands: ``tour``, ``list``, ``show``, ``tail``.

Only their options live here; each body imports what it needs when it runs,
so ``trace-request --help`` or a plain trace pays for none of it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from tracer.cli.options import AsciiOption, FormatOption, NoColorOption, StoreOption, WidthOption

#: exit status of a command ended by Ctrl-C (128 + SIGINT), as the shell reports it
INTERRUPTED = 130


def tour_command(
    width: WidthOption = None,
    ascii_only: AsciiOption = False,
    no_color: NoColorOption = False,
) -> None:
    """The lesson, one screen per stop: success, then each way a request goes wrong (n/p/q)."""
    from tracer.cli.tour import run_tour

    run_tour(width=width, ascii_only=ascii_only, no_color=no_color)


def list_command(
    store: StoreOption = None,
    limit: Annotated[
        int,
        typer.Option("--limit", "-n", min=1, metavar="N", help="How many of the newest traces."),
    ] = 20,
    errors: Annotated[
        bool, typer.Option("--errors", help="Failed requests only (5xx or no response).")
    ] = False,
    no_color: NoColorOption = False,
) -> None:
    """List the traces in the local store, the newest at the bottom."""
    from tracer.cli import output as out
    from tracer.cli.store_commands import list_traces

    list_traces(store, limit, errors, out.make_console(color=not no_color))


def show_command(
    trace_id: Annotated[
        str, typer.Argument(metavar="TRACE_ID", help="A trace id, or 6+ characters of it.")
    ],
    store: StoreOption = None,
    fmt: FormatOption = None,
    width: WidthOption = None,
    no_color: NoColorOption = False,
) -> None:
    """Draw one trace from the local store."""
    from tracer.cli.store_commands import show_trace

    _drawer(fmt, width, no_color)(show_trace(store, trace_id))


def tail_command(
    store: StoreOption = None,
    fmt: FormatOption = None,
    width: WidthOption = None,
    no_color: NoColorOption = False,
) -> None:
    """Draw each new trace as the app stores it, like tail -f (Ctrl-C stops)."""
    from tracer.cli import output as out
    from tracer.cli.store_commands import tail

    notes = out.make_console(stderr=True, color=not no_color)
    tail(store, _drawer(fmt, width, no_color), notice=lambda m: notes.print(m, style="dim"))
    # With no stop event and no limit, tail() only returns once Ctrl-C ended it: report
    # the interrupt as tail -f does (130), so `trace-request tail && …` stops there.
    raise typer.Exit(INTERRUPTED)


def _drawer(fmt: str | None, width: int | None, no_color: bool) -> Callable[[Any], None]:
    """Draw a stored trace as the trace command would, in the chosen format."""
    from tracer.cli import output as out

    renderer, export = out.resolve_format(fmt, None)
    color = not no_color
    console = out.make_console(color=color, width=width)

    def draw(trace: Any) -> None:
        renderable, text = out.render(
            trace, renderer, export=export, width=width, ascii=False, color=color
        )
        if renderable is not None:
            console.print(renderable)
            console.print(out.findings(trace, width=width, ascii=False))
            block = out.trace_output_block(trace)
            if block is not None:
                console.print(block, soft_wrap=True)
        else:
            sys.stdout.write(text if text is not None and text.endswith("\n") else f"{text}\n")
            sys.stdout.flush()

    return draw
