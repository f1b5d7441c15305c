"""A broken store costs traces, never the app: writers drop and log once, readers say why."""

from __future__ import annotations

import os
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.store.conftest import make_trace, warnings_from
from tracer.sinks.store import StoreError, TraceStore
from tracer.sinks.store import writer as writer_module

Opener = Callable[..., TraceStore]


def _add_batches(store: TraceStore, batches: int = 2, per_batch: int = 3) -> float:
    """Add traces in separate batches (so the writer fails more than once); the slowest add."""
    slowest = 0.0
    for b in range(batches):
        for n in range(per_batch):
            started = time.perf_counter()
            store.add(make_trace(b * 10 + n))
            slowest = max(slowest, time.perf_counter() - started)
        assert store.flush(10)
    return slowest


def _assert_dropped_and_logged_once(
    store: TraceStore, caplog: pytest.LogCaptureFixture, expected: int = 6
) -> None:
    assert (store.written, store.dropped) == (0, expected)
    (record,) = warnings_from(caplog)
    message = record.getMessage()
    assert str(store.path) in message and "dropped" in message and "unaffected" in message


def test_corrupt_file(db_path: Path, open_store: Opener, caplog: pytest.LogCaptureFixture) -> None:
    db_path.write_bytes(b"this is not a database, " * 200)
    store = open_store()
    assert _add_batches(store) < 0.05  # no exception, no waiting
    _assert_dropped_and_logged_once(store, caplog)
    with pytest.raises(StoreError, match="is not a trace-request store or is corrupt") as err:
        store.list()
    assert "\n" not in str(err.value)
    with pytest.raises(StoreError):
        store.get("abcdef")


def test_unwritable_location(
    tmp_path: Path, open_store: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "file").write_text("a file, not a directory")
    store = open_store(tmp_path / "file" / "traces.db")
    _add_batches(store)
    _assert_dropped_and_logged_once(store, caplog)
    with pytest.raises(StoreError, match="no trace store at"):
        store.count()


def test_read_only_file_for_the_writer(
    db_path: Path,
    open_store: Opener,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = open_store()
    first.add(make_trace(100))
    first.close()

    def connect_read_only(path: Path, busy_timeout: float) -> sqlite3.Connection:
        return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)

    monkeypatch.setattr(writer_module, "_connect_writer", connect_read_only)
    store = open_store()
    _add_batches(store)
    _assert_dropped_and_logged_once(store, caplog)
    assert "readonly" in warnings_from(caplog)[0].getMessage()
    assert store.count() == 1  # still readable


def test_read_only_message_for_readers(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_path.write_bytes(b"")

    def refuse(*args: object, **kwargs: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(sqlite3, "connect", refuse)
    with pytest.raises(StoreError, match="write access to its directory"):
        TraceStore(db_path).list()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_really_read_only_store(db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    writer = TraceStore(db_path, flush_interval=0.01)
    writer.add(make_trace(1))
    writer.close()
    db_path.chmod(0o400)
    db_path.parent.chmod(0o500)
    try:
        store = TraceStore(db_path, flush_interval=0.01)
        _add_batches(store)
        _assert_dropped_and_logged_once(store, caplog)
        with pytest.raises(StoreError, match="write access to its directory"):
            store.list()
        store.close()
    finally:
        db_path.parent.chmod(0o700)
        db_path.chmod(0o600)


@pytest.fixture
def locked(db_path: Path) -> Iterator[None]:
    """Another process holds the store's lock and does not let go."""
    setup = TraceStore(db_path)
    setup.add(make_trace(1))
    setup.close()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("DELETE FROM traces WHERE 0")
    yield
    holder.execute("ROLLBACK")
    holder.close()


@pytest.mark.usefixtures("locked")
def test_locked_store(open_store: Opener, caplog: pytest.LogCaptureFixture) -> None:
    store = open_store(busy_timeout=0.05)
    assert _add_batches(store) < 0.05  # the writer waits, add() does not
    _assert_dropped_and_logged_once(store, caplog)
    assert "locked" in warnings_from(caplog)[0].getMessage()
    with pytest.raises(StoreError, match="locked by another process; try again"):
        store.list()


def test_writer_recovers_after_a_failure(
    db_path: Path, open_store: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    db_path.write_bytes(b"garbage " * 100)
    store = open_store()
    _add_batches(store, batches=1)
    db_path.unlink()  # the user removes the broken file: the next batch starts afresh
    store.add(make_trace(50))
    assert store.flush()
    assert (store.written, store.dropped) == (1, 3)
    assert store.count() == 1
    assert len(warnings_from(caplog)) == 1


def test_other_sqlite_database(db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE other (x)")
    conn.close()
    with pytest.raises(StoreError, match="not a trace-request store"):
        TraceStore(db_path).count()


def test_newer_store_version(db_path: Path, open_store: Opener) -> None:
    store = open_store()
    store.add(make_trace(1))
    store.close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="newer trace-request"):
        TraceStore(db_path).count()


def test_empty_file_is_a_store_being_created(db_path: Path) -> None:
    db_path.write_bytes(b"")
    reader = TraceStore(db_path)
    assert (reader.count(), reader.list(), reader.get("abcdef")) == (0, [], None)
    assert reader.arrived_after(0) == ([], 0)
    reader.close()


def test_unreadable_document(db_path: Path, open_store: Opener) -> None:
    store = open_store()
    store.add(make_trace(1))
    assert store.flush()
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE traces SET document = ?", (zlib.compress(b"{}"),))
    conn.close()
    with pytest.raises(StoreError, match=f"trace {1:032x} in .* is unreadable"):
        store.get(f"{1:032x}")
    assert store.list()[0].trace_id == f"{1:032x}"  # the summary still lists it
