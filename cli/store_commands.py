"""``trace-request list / show / tail``: read the local trace store.

Plain functions, so ``cli.main`` only maps options onto them. Every store
problem becomes a one-line :class:`~cli.errors.CLIError`; Ctrl-C ends
``tail`` cleanly. Recording into the store is the app's side:
``tracer.instrument(app, store=True)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from tracer.cli.errors import CLIError
from tracer.model import Trace
from tracer.renderers.terminal_safe import safe
from tracer.sinks.store import StoreError, TraceStore, TraceSummary

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

#: How many characters of a trace id the list shows (``show`` accepts 6 or more).
SHORT_ID = 8
_HOW_TO_RECORD = "the app records into it with tracer.instrument(app, store=True)"


def open_store(store_path: str | None) -> TraceStore:
    """The store at ``store_path`` (default: ``$TRACE_REQUEST_STORE`` or the cache dir), to read."""
    return TraceStore(store_path)


def list_traces(
    store_path: str | None,
    limit: int,
    errors_only: bool,
    console: Console,
    *,
    route: str | None = None,
    status: int | None = None,
) -> None:
    """Print the newest ``limit`` traces as a table, oldest at the top, newest by the prompt."""
    store = open_store(store_path)
    try:
        rows = store.list(limit, route=route, status=status, errors_only=errors_only)
        total = store.count()
        budget = store.budget_stats()
    except StoreError as exc:
        raise CLIError(_store_message(exc, store)) from exc
    finally:
        store.close()
    if not rows:
        what = "failed requests" if errors_only else "traces"
        console.print(f"no {what} among {total} stored in {store.path}", style="dim")
        return
    table = _table(
        list(reversed(rows)),
        caption=_caption(len(rows), total, store),
        width=console.width,
        # under load the store keeps errors, slow and triggered requests and a sample: say which
        kept=budget is not None and budget.dropped > 0,
    )
    console.print(table)
    if budget is not None:  # what a busy server's store chose to keep, and why
        console.print(budget.describe(), style="dim")


def _caption(shown: int, total: int, store: TraceStore) -> str:
    return f"{shown} of {total} stored · {store.path} · trace-request show ID"


_RIGHT = frozenset({"status", "duration", "spans"})
_STYLE = {"time": "dim", "trace id": "cyan"}
#: dropped, in this order, when the terminal leaves the route less than this many columns
_OPTIONAL = ("spans", "duration")
_ROUTE_MIN = 14


def _table(rows: list[TraceSummary], *, caption: str, width: int, kept: bool = False) -> Table:
    """One row per trace, in ``width`` columns.

    Only the route shrinks (with an ellipsis); the id, the status and the
    time keep their width, and on a very narrow terminal the span count and
    then the duration make room.
    """
    from rich import box
    from rich.table import Table

    today = datetime.now().date()
    columns: dict[str, list[str | Text]] = {
        "time": [_when(row.started_ns, today) for row in rows],
        "method": [safe(row.method) for row in rows],
        "route / path": [_where(row) for row in rows],
        "status": [_status(row) for row in rows],
        "duration": [_duration(row.duration_ns) for row in rows],
        "spans": [str(row.span_count) for row in rows],
        "trace id": [row.trace_id[:SHORT_ID] for row in rows],
    }
    if kept:
        columns["kept"] = [row.kept_because or "" for row in rows]
    route_width = _route_width(columns, width)
    for name in _OPTIONAL:
        if route_width >= _ROUTE_MIN:
            break
        del columns[name]
        route_width = _route_width(columns, width)
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        caption=caption,
        caption_justify="left",
        caption_style="dim",
        pad_edge=False,
    )
    for name, cells in columns.items():
        is_route = name == "route / path"
        table.add_column(
            name,
            no_wrap=True,
            overflow="ellipsis",
            justify="right" if name in _RIGHT else "left",
            min_width=None if is_route else _width(name, cells),
            max_width=max(6, route_width) if is_route else None,
            style=_STYLE.get(name),
        )
    for row in zip(*columns.values(), strict=True):
        table.add_row(*row)
    return table


def _width(name: str, cells: list[str | Text]) -> int:
    return max(len(name), *(len(cell) for cell in cells))


def _route_width(columns: dict[str, list[str | Text]], width: int) -> int:
    """What is left for the route: 3 columns of padding separate neighbours."""
    others = sum(_width(name, cells) for name, cells in columns.items() if name != "route / path")
    return width - others - 3 * (len(columns) - 1)


def _when(started_ns: int, today: date) -> str:
    """Local wall-clock time to the millisecond; the date too when it is not today."""
    moment = datetime.fromtimestamp(started_ns / 1e9)
    clock = moment.strftime("%H:%M:%S.%f")[:-3]
    return clock if moment.date() == today else f"{moment:%Y-%m-%d} {clock}"


def _where(row: TraceSummary) -> Text:
    """The route template, and the recorded path beside it when they differ.

    Both came from a request: control characters and escape sequences are
    stripped before they reach the terminal.
    """
    from rich.text import Text

    path, route = safe(row.path), safe(row.route or "")
    if not route or route == path:
        return Text(path)
    return Text.assemble(route, ("  " + path, "dim"))


def _status(row: TraceSummary) -> Text:
    from rich.text import Text

    from tracer.renderers.theme import ERROR, status_style

    label = "—" if row.status is None else str(row.status)
    if row.error and (row.status is None or row.status < 500):
        return Text(f"{label} ✗", style=ERROR)  # failed without a 5xx (e.g. no response)
    return Text(label, style=status_style(row.status))


def _duration(ns: int) -> str:
    from tracer.renderers.labels import format_duration

    return format_duration(ns)


def show_trace(store_path: str | None, trace_id: str) -> Trace:
    """The stored trace with this id or unique prefix (at least 6 hex digits)."""
    store = open_store(store_path)
    try:
        trace = store.get(trace_id)
    except StoreError as exc:
        raise CLIError(_store_message(exc, store)) from exc
    finally:
        store.close()
    if trace is None:
        hint = " (give at least 6 characters of the id)" if len(trace_id.strip()) < 6 else ""
        raise CLIError(
            f"no trace {trace_id!r} in {store.path}{hint}; trace-request list shows the stored ones"
        )
    return trace


def tail(
    store_path: str | None,
    render: Callable[[Trace], None],
    *,
    interval: float = 0.5,
    stop: threading.Event | None = None,
    max_traces: int | None = None,
    notice: Callable[[str], None] | None = None,
) -> int:
    """Render each trace stored from now on, like ``tail -f``; returns how many were shown.

    Ends when ``stop`` is set, after ``max_traces`` traces, or on Ctrl-C. A
    store that does not exist yet is waited for (``notice`` hears about it
    once): start ``tail`` first, then the server.
    """
    stop = stop or threading.Event()
    store = open_store(store_path)
    shown = 0
    try:
        cursor = _start_cursor(store, stop, interval, notice)
        while cursor is not None and not stop.is_set():
            cursor, shown = _show_arrivals(store, cursor, render, shown, max_traces)
            if max_traces is not None and shown >= max_traces:
                break
            stop.wait(interval)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how tail -f ends
    except StoreError as exc:
        raise CLIError(_store_message(exc, store)) from exc
    finally:
        store.close()
    return shown


def _start_cursor(
    store: TraceStore,
    stop: threading.Event,
    interval: float,
    notice: Callable[[str], None] | None,
) -> int | None:
    """Where following starts: the latest arrival, or 0 once a missing store appears."""
    if store.path.is_file():
        return store.cursor()
    if notice is not None:
        notice(f"waiting for the trace store {store.path} to be created ({_HOW_TO_RECORD})")
    while not store.path.is_file():
        if stop.wait(interval):
            return None
    return 0


def _show_arrivals(
    store: TraceStore,
    cursor: int,
    render: Callable[[Trace], None],
    shown: int,
    max_traces: int | None,
) -> tuple[int, int]:
    """Render the traces stored after ``cursor``; the new cursor and running count."""
    while True:
        arrivals, next_cursor = store.arrived_after(cursor)
        for summary in arrivals:
            if max_traces is not None and shown >= max_traces:
                return cursor, shown
            trace = store.get(summary.trace_id)
            if trace is not None:  # None: already trimmed by the ring buffer
                render(trace)
                shown += 1
        if next_cursor == cursor:
            return cursor, shown
        cursor = next_cursor


def fetch_trace_for_response(store_path: str | None, trace_id: str, timeout: float = 5.0) -> Trace:
    """Wait for the server to store the trace of a response we just received.

    The server's writer is asynchronous (it batches for up to 50 ms), so the
    trace usually lands a little after the response.
    """
    store = open_store(store_path)
    deadline = time.monotonic() + timeout
    try:
        while True:
            trace = _try_get(store, trace_id)
            if trace is not None:
                return trace
            if time.monotonic() >= deadline:
                raise CLIError(
                    f"trace {trace_id} did not reach the store {store.path} within "
                    f"{timeout:g}s: is the server recording into this store? ({_HOW_TO_RECORD})"
                )
            time.sleep(0.05)
    finally:
        store.close()


def _try_get(store: TraceStore, trace_id: str) -> Trace | None:
    """``store.get``, treating a store that does not exist yet as 'not there yet'."""
    if not store.path.is_file():
        return None
    try:
        return store.get(trace_id)
    except StoreError as exc:
        raise CLIError(_store_message(exc, store)) from exc


def _store_message(error: StoreError, store: TraceStore) -> str:
    message = str(error)
    if not store.path.exists():
        return f"{message}; {_HOW_TO_RECORD}"
    return message


__all__ = ["fetch_trace_for_response", "list_traces", "open_store", "show_trace", "tail"]
