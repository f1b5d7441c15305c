"""The store as a sink and as a reader: round trip, ring buffer, lookups, filters, files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.store.conftest import MS, T0, make_trace
from tracer.model import Trace
from tracer.sinks.store import AmbiguousTraceId, StoreError, TraceStore, default_path

Opener = Callable[..., TraceStore]


def test_round_trip_is_exact(open_store: Opener) -> None:
    store = open_store()
    traces = [make_trace(1), make_trace(2, status=None), make_trace(3, route=None)]
    for trace in traces:
        store(trace)  # the sink form
    assert store.flush()
    for trace in traces:
        stored = store.get(trace.trace_id)
        assert stored is not None
        assert stored.to_dict() == trace.to_dict()
    assert (store.written, store.dropped) == (3, 0)


def test_document_is_compressed_json_and_columns_summarise(
    open_store: Opener, db_path: Path
) -> None:
    store = open_store()
    store.add(make_trace(5, status=201, method="POST", path="/items/5"))
    assert store.flush()
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT * FROM traces").fetchone()
    assert row[:9] == (
        f"{5:032x}",
        T0 + 5 * MS,
        "POST",
        "/items/5",
        "/items/{item_id}",
        201,
        4 * MS,  # to response complete, not to the end of the last span
        3,
        0,
    )
    assert (
        Trace.from_json(zlib.decompress(row[9]).decode()).to_dict()
        == make_trace(5, status=201, method="POST", path="/items/5").to_dict()
    )


def test_summary_error_and_duration_without_response(open_store: Opener) -> None:
    store = open_store()
    store.add(make_trace(1, status=None))
    assert store.flush()
    (summary,) = store.list()
    assert summary.status is None and summary.error
    assert summary.duration_ns == 5 * MS  # no response: the whole trace


def test_ring_buffer_keeps_the_newest(open_store: Opener) -> None:
    store = open_store(max_traces=5, batch_size=3, recent_size=0)
    for n in range(1, 13):
        store.add(make_trace(n))
    assert store.flush()
    assert store.count() == 5
    assert [s.trace_id for s in store.list(100)] == [f"{n:032x}" for n in range(12, 7, -1)]
    assert store.get(f"{7:032x}") is None


def test_ring_buffer_counts_arrivals_not_start_times(open_store: Opener) -> None:
    """A slow request stored last is kept even though it started first."""
    store = open_store(max_traces=2)
    for n, start in ((1, 10), (2, 20), (3, 0)):
        store.add(make_trace(n, start_ms=start))
        assert store.flush()
    assert {s.trace_id[-1] for s in store.list()} == {"2", "3"}


def test_prefix_lookup(open_store: Opener) -> None:
    store = open_store()
    first, second, odd = make_trace(1), make_trace(2), make_trace(3)
    first.trace_id = "abcdef0123" + "0" * 22
    second.trace_id = "abcdef4567" + "0" * 22
    odd.trace_id = "Some-Foreign-Id"  # e.g. from an OTLP file
    for trace in (first, second, odd):
        store.add(trace)
    assert store.flush()
    found = store.get("ABCDEF0")  # case does not matter
    assert found is not None and found.to_dict() == first.to_dict()
    assert store.get("abcdef45") is not None
    with pytest.raises(AmbiguousTraceId, match="'abcdef' matches several traces"):
        store.get("abcdef")
    assert store.get("abcde") is None  # fewer than 6 characters: exact ids only
    assert store.get("abcdez") is None  # not hex
    assert store.get("ffffff") is None
    assert store.get("Some-Foreign-Id") is not None


def test_filters(filled: TraceStore) -> None:
    assert [s.trace_id[-2:] for s in filled.list(3)] == ["0a", "09", "08"]  # newest first
    assert {s.trace_id[-1] for s in filled.list(errors_only=True)} == {"3", "7"}
    assert [s.status for s in filled.list(route="/users/{user_id}")] == [404]
    assert [s.trace_id[-1] for s in filled.list(route="/users/8")] == ["8"]
    assert len(filled.list(status=200)) == 7
    assert filled.list(status=500, errors_only=True, route="/items/{item_id}", limit=1)[
        0
    ].trace_id.endswith("7")
    assert filled.count() == 10


def test_since_is_exclusive_and_oldest_first(filled: TraceStore) -> None:
    newer = filled.since(T0 + 7 * MS, limit=2)
    assert [s.started_ns for s in newer] == [T0 + 8 * MS, T0 + 9 * MS]
    assert filled.since(T0 + 10 * MS) == []


def test_arrived_after_follows_arrival_order(open_store: Opener) -> None:
    store = open_store()
    store.add(make_trace(1, start_ms=50))
    assert store.flush()
    cursor = store.cursor()
    store.add(make_trace(2, start_ms=10))  # started earlier, stored later: still seen
    store.add(make_trace(3, start_ms=60))
    assert store.flush()
    arrived, cursor = store.arrived_after(cursor)
    assert [s.trace_id[-1] for s in arrived] == ["2", "3"]
    assert store.arrived_after(cursor) == ([], cursor)


def test_private_file_and_directory_whatever_the_umask(tmp_path: Path, open_store: Opener) -> None:
    path = tmp_path / "new" / "dir" / "traces.db"
    old = os.umask(0)
    try:
        store = open_store(path)
        store.add(make_trace(1))
        assert store.flush()
        assert store.written == 1
    finally:
        os.umask(old)
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert file.stat().st_mode & 0o777 == 0o600, file
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert tmp_path.stat().st_mode & 0o777 != 0o700 or True  # existing dirs are left alone


def test_existing_directory_is_left_alone(tmp_path: Path, open_store: Opener) -> None:
    tmp_path.chmod(0o755)
    store = open_store(tmp_path / "traces.db")
    store.add(make_trace(1))
    assert store.flush()
    assert tmp_path.stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "traces.db").stat().st_mode & 0o777 == 0o600


def test_default_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TRACE_REQUEST_STORE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_path() == tmp_path / "trace-request" / "traces.db"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_path() == tmp_path / ".cache" / "trace-request" / "traces.db"
    monkeypatch.setenv("TRACE_REQUEST_STORE", str(tmp_path / "x.db"))
    assert default_path() == tmp_path / "x.db"
    assert TraceStore().path == tmp_path / "x.db"


def test_reading_creates_nothing(db_path: Path) -> None:
    store = TraceStore(db_path)
    with pytest.raises(StoreError, match=f"no trace store at {db_path}"):
        store.list()
    with pytest.raises(StoreError):
        store.get("abcdef")
    store.close()
    assert not db_path.exists()
    assert not db_path.parent.joinpath(f"{db_path.name}-wal").exists()


def test_close_flushes_and_later_adds_are_dropped(db_path: Path) -> None:
    store = TraceStore(db_path, flush_interval=1.0)  # a long batch window: close must not wait
    for n in range(50):
        store.add(make_trace(n))
    started = time.monotonic()
    store.close()
    assert time.monotonic() - started < 0.9
    store.close()  # idempotent
    assert store.written == 50
    store.add(make_trace(99))
    assert store.dropped == 1
    reader = TraceStore(db_path)
    assert reader.count() == 50
    reader.close()
    assert not Path(f"{db_path}-wal").exists()  # the last connection tidied up


def test_exit_flushes_without_close(db_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        from tests.store.conftest import make_trace
        from tracer.sinks.store import TraceStore
        store = TraceStore({str(db_path)!r}, flush_interval=1.0)
        for n in range(20):
            store.add(make_trace(n))
        """
    )
    subprocess.run(
        [sys.executable, "-c", script], check=True, timeout=30, cwd=Path(__file__).parents[2]
    )
    reader = TraceStore(db_path)
    assert reader.count() == 20
    reader.close()


def test_full_queue_drops_and_never_blocks(
    open_store: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(queue_size=100, batch_size=10)
    gate = threading.Event()
    real_write = TraceStore._write_batch

    def stuck_write(self: TraceStore, *args: object) -> None:
        gate.wait(10)  # a disk that stopped answering
        real_write(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(TraceStore, "_write_batch", stuck_write)
    trace = make_trace(1)
    started = time.perf_counter()
    for _ in range(10_000):
        store.add(trace)
    elapsed = time.perf_counter() - started
    gate.set()
    assert store.flush()
    assert elapsed < 2.0, f"10k adds took {elapsed:.2f}s"
    assert store.dropped >= 10_000 - 100 - 10
    assert store.written + store.dropped == 10_000


def test_concurrent_adders(open_store: Opener) -> None:
    store = open_store(max_traces=10_000)

    def add_many(base: int) -> None:
        for n in range(base, base + 250):
            store.add(make_trace(n))

    threads = [threading.Thread(target=add_many, args=(k * 1000,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert store.flush()
    assert (store.written, store.dropped, store.count()) == (1000, 0, 1000)


def test_a_malformed_trace_costs_only_itself(open_store: Opener) -> None:
    store = open_store()
    bad = make_trace(2)
    bad.response["status_code"] = "not a number"
    store.add(make_trace(1))
    store.add(bad)
    store.add(make_trace(3))
    assert store.flush()
    assert (store.written, store.dropped) == (2, 1)
