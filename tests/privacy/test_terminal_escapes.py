"""A request can put escape sequences in its path: no terminal output passes them on."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from tests.store.conftest import make_trace
from tracer.cli.store_commands import list_traces, show_trace
from tracer.renderers import RENDERERS, get_renderer
from tracer.sinks.store import TraceStore

HOSTILE = "/\x1b]0;owned\x07\x1b[2J\u202eevil\x9b31m"


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=120, no_color=True, highlight=False), buffer


def test_list_and_show_strip_escapes_from_recorded_paths(tmp_path: Path) -> None:
    store = TraceStore(tmp_path / "traces.db", flush_interval=0.01, budget=None)
    try:
        trace = make_trace(1, status=404, path=HOSTILE, route=HOSTILE + "/{x}")
        store.add(trace)
        assert store.flush()
        console, out = _console()
        list_traces(str(store.path), 5, False, console)
        listed = out.getvalue()
        stored = show_trace(str(store.path), trace.trace_id)
        shown = [get_renderer(name)(width=120, color=False).render(stored) for name in RENDERERS]
    finally:
        store.close()
    assert "evil" in listed  # the visible text stays; the sequences go
    for text in (listed, *(s if isinstance(s, str) else s.decode() for s in shown)):
        for bad in ("\x1b", "\x07", "\u202e", "\x9b"):
            assert bad not in text, repr(text)
