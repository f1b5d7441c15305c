"""The CLI side: list, show, tail and fetching the trace of a live response."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from tests.store.conftest import make_trace
from tracer.cli.errors import CLIError
from tracer.cli.store_commands import fetch_trace_for_response, list_traces, show_trace, tail
from tracer.model import Trace
from tracer.sinks.store import TraceStore

Opener = Callable[..., TraceStore]


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=120, no_color=True, highlight=False), buffer


def test_list_shows_newest_last(filled: TraceStore) -> None:
    console, out = _console()
    list_traces(str(filled.path), 3, False, console)
    text = out.getvalue()
    lines = [line for line in text.splitlines() if "GET" in line]
    assert [line.split()[-1] for line in lines] == ["00000000"] * 3  # ids share a prefix here
    assert "/users/{user_id}  /users/8" in text and "404" in text
    assert text.index("/users/8") < text.index("/items/10")  # newest at the bottom
    assert "3 of 10 stored" in text and str(filled.path) in text
    assert "5.00ms" not in text and "4.00ms" in text  # duration to response complete


def test_list_errors_only(filled: TraceStore) -> None:
    console, out = _console()
    list_traces(str(filled.path), 20, True, console)
    rows = [line for line in out.getvalue().splitlines() if "GET" in line]
    assert len(rows) == 2 and all("500" in row for row in rows)


def test_list_marks_a_failure_without_5xx(open_store: Opener, db_path: Path) -> None:
    store = open_store()
    store.add(make_trace(1, status=None))
    assert store.flush()
    console, out = _console()
    list_traces(str(db_path), 20, False, console)
    assert "— ✗" in out.getvalue()


def test_list_empty_and_missing(open_store: Opener, db_path: Path) -> None:
    console, out = _console()
    with pytest.raises(CLIError, match=f"no trace store at {db_path}.*store=True"):
        list_traces(str(db_path), 20, False, console)
    store = open_store()
    store.add(make_trace(1))
    assert store.flush()
    list_traces(str(db_path), 20, True, console)
    assert "no failed requests among 1 stored" in out.getvalue()


def test_show(filled: TraceStore) -> None:
    trace_id = f"{3:032x}"
    assert (
        show_trace(str(filled.path), trace_id).to_dict()
        == make_trace(3, status=500, failed=True).to_dict()
    )
    with pytest.raises(CLIError, match=r"no trace 'ffffffff' in .*trace-request list"):
        show_trace(str(filled.path), "ffffffff")
    with pytest.raises(CLIError, match="at least 6 characters"):
        show_trace(str(filled.path), "abc")
    with pytest.raises(CLIError, match="matches several traces"):
        show_trace(str(filled.path), "000000")


def test_show_missing_store(tmp_path: Path) -> None:
    with pytest.raises(CLIError, match="no trace store at") as err:
        show_trace(str(tmp_path / "nope.db"), "abcdef")
    assert "\n" not in str(err.value)


def _run_tail(
    path: Path, seen: list[Trace], stop: threading.Event, **options: object
) -> threading.Thread:
    thread = threading.Thread(
        target=tail,
        args=(str(path), seen.append),
        kwargs={"interval": 0.01, "stop": stop, **options},
    )
    thread.start()
    return thread


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_tail_follows_new_traces(open_store: Opener, db_path: Path) -> None:
    store = open_store()
    store.add(make_trace(1))  # already there: not replayed
    assert store.flush()
    seen: list[Trace] = []
    stop = threading.Event()
    thread = _run_tail(db_path, seen, stop)
    try:
        time.sleep(0.05)  # let tail take its starting point
        store.add(make_trace(2, start_ms=100))
        store.add(make_trace(3, start_ms=0))  # started before #1, stored after: still shown
        assert store.flush()
        _wait_for(lambda: len(seen) == 2)
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert [t.trace_id[-1] for t in seen] == ["2", "3"]
    assert seen[0].to_dict() == make_trace(2, start_ms=100).to_dict()


def test_tail_waits_for_the_store_and_stops_after_max(open_store: Opener, db_path: Path) -> None:
    notices: list[str] = []
    seen: list[Trace] = []
    stop = threading.Event()
    thread = _run_tail(db_path, seen, stop, max_traces=2, notice=notices.append)
    try:
        _wait_for(lambda: bool(notices))
        store = open_store()
        for n in range(1, 5):
            store.add(make_trace(n))
        assert store.flush()
        thread.join(5)
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert "waiting for the trace store" in notices[0] and str(db_path) in notices[0]
    assert [t.trace_id[-1] for t in seen] == ["1", "2"]


def test_tail_ends_cleanly_on_ctrl_c(open_store: Opener, db_path: Path) -> None:
    store = open_store()
    store.add(make_trace(1))
    assert store.flush()

    def interrupt(trace: Trace) -> None:
        raise KeyboardInterrupt

    def arrive() -> None:
        store.add(make_trace(2))
        store.flush()

    stop = threading.Event()
    timer = threading.Timer(0.05, arrive)
    safety = threading.Timer(5, stop.set)  # never hang the suite
    timer.start()
    safety.start()
    started = time.monotonic()
    try:
        assert tail(str(db_path), interrupt, interval=0.01, stop=stop) == 0
        assert time.monotonic() - started < 4, "the interrupt did not end tail"
    finally:
        safety.cancel()
        timer.join(5)


def test_tail_reports_a_broken_store(db_path: Path) -> None:
    db_path.write_bytes(b"not a database " * 100)
    with pytest.raises(CLIError, match="corrupt"):
        tail(str(db_path), lambda trace: None, interval=0.01, stop=threading.Event())


def test_fetch_trace_for_response_waits_for_the_writer(db_path: Path) -> None:
    store = TraceStore(db_path, flush_interval=0.2)  # the server's writer is slow to commit
    trace = make_trace(7)
    store.add(trace)
    try:
        started = time.monotonic()
        fetched = fetch_trace_for_response(str(db_path), trace.trace_id, timeout=5)
        assert fetched.to_dict() == trace.to_dict()
        assert time.monotonic() - started < 3
    finally:
        store.close()


def test_fetch_trace_for_response_times_out(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(CLIError, match=r"did not reach the store .* within 0.2s"):
        fetch_trace_for_response(str(tmp_path / "traces.db"), "abcdef" * 5, timeout=0.2)
    assert time.monotonic() - started < 2


def test_list_says_what_a_busy_store_kept_and_why(open_store: Opener) -> None:
    from tests.store.test_budget import FakeClock, traffic

    store = open_store(budget=5, budget_window=1.0, clock=FakeClock(), seed=3, queue_size=5_000)
    for trace in traffic(1_000, errors=4):
        store.add(trace)
    assert store.flush(30)
    console, out = _console()
    list_traces(str(store.path), 20, False, console)
    text = out.getvalue()
    assert "kept" in text.splitlines()[0]  # a column, only when the budget chose
    assert "error" in text
    assert "kept 9 of 1,000 traces in the last minute: all 4 errors" in text


def test_list_of_a_quiet_store_has_no_kept_column(filled: TraceStore) -> None:
    console, out = _console()
    list_traces(str(filled.path), 5, False, console)
    assert "kept" not in out.getvalue().splitlines()[0]
