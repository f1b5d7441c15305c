"""Options several commands share, declared once so their help reads the same everywhere."""

from __future__ import annotations

from typing import Annotated

import typer

FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help="sequence (default), waterfall, tree, json or mermaid.",
    ),
]
WidthOption = Annotated[
    int | None, typer.Option("--width", min=40, max=1000, metavar="N", help="Columns to draw in.")
]
NoColorOption = Annotated[bool, typer.Option("--no-color", help="Plain text, no colour.")]
AsciiOption = Annotated[
    bool, typer.Option("--ascii", help="ASCII glyphs only (for CJK or dumb terminals).")
]
StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="PATH",
        help="Trace store file (default: $TRACE_REQUEST_STORE, else "
        "~/.cache/trace-request/traces.db).",
    ),
]
