"""The local trace store: the last N traces in one SQLite file, written off the request path.

``TraceStore`` is a sink (``tracer.instrument(app, store=True)`` opens one)
and the reader behind ``trace-request list / show / tail``. The two sides
have opposite needs, so they are kept apart:

- **Writing** happens on the request's task, after the response. ``add()``
  only puts the trace on a bounded queue (when it is full the trace is
  dropped and counted, never waited for). One daemon thread serialises,
  compresses and inserts the traces in batches, trims the table to the
  newest ``max_traces`` rows and swallows every failure: a full disk, a
  read-only or corrupt file or a lock held too long costs traces (counted in
  ``dropped``, logged once), never the host app's requests.
- **Reading** never creates the file, never writes to it and reports any
  problem as a one-line :class:`StoreError`, which the CLI prints as is.

Several processes (uvicorn or gunicorn workers) may write one file at once:
the database is in WAL mode, every writer takes the write lock up front
(``BEGIN IMMEDIATE``) with a busy timeout, and retries when it still finds
the file locked. The file, its ``-wal`` and ``-shm`` companions and a
directory we create are private to the owner: traces hold request data.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import sqlite3
import threading
import time
import weakref
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracer.analysis.processors import response_ns
from tracer.model import Trace

logger = logging.getLogger("trace_request")

#: Environment variable naming the store file; overrides the default location.
ENV_VAR = "TRACE_REQUEST_STORE"
DEFAULT_MAX_TRACES = 1000
#: Bumped when the table changes; readers refuse files from a newer version.
SCHEMA_VERSION = 1
#: A trace id prefix must be this long to be looked up (shorter ones match too much).
MIN_PREFIX = 6

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS traces (
        trace_id TEXT PRIMARY KEY,
        started_ns INTEGER,
        method TEXT,
        path TEXT,
        route TEXT,
        status INTEGER,
        duration_ns INTEGER,
        span_count INTEGER,
        error INTEGER,
        document BLOB
    )""",
    "CREATE INDEX IF NOT EXISTS traces_started_ns ON traces (started_ns)",
)
_INSERT = (
    "INSERT OR REPLACE INTO traces (trace_id, started_ns, method, path, route, status,"
    " duration_ns, span_count, error, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Rows are trimmed in arrival (rowid) order: the newest row always survives, so
# rowids only grow and ``arrived_after`` can follow the table like ``tail -f``.
_TRIM = (
    "DELETE FROM traces WHERE rowid <= "
    "(SELECT rowid FROM traces ORDER BY rowid DESC LIMIT 1 OFFSET ?)"
)
_SUMMARY_COLUMNS = (
    "trace_id, started_ns, method, path, route, status, duration_ns, span_count, error"
)
_LOCK_RETRIES = 3
_HEX = frozenset("0123456789abcdef")

_Row = tuple[str, int, str, str, str | None, int | None, int, int, int, bytes]
# ``TraceStore.list`` shadows the builtin in the class body: its signatures use these.
_Fetched = list[tuple[Any, ...]]


class StoreError(Exception):
    """The store cannot be read; ``str(error)`` is a one-line message for the user."""


class AmbiguousTraceId(StoreError):
    """A trace id prefix matched more than one stored trace."""


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """One row of the store: enough to list and filter traces without decoding them.

    ``duration_ns`` is request start to response complete (background work
    after the response does not count), or the whole trace when no response
    was sent. ``error`` means the request failed: a 5xx, no response at all,
    or a root span marked as an error.
    """

    trace_id: str
    started_ns: int
    method: str
    path: str
    route: str | None
    status: int | None
    duration_ns: int
    span_count: int
    error: bool


_Summaries = list[TraceSummary]


def default_path() -> Path:
    """``$TRACE_REQUEST_STORE``, else ``$XDG_CACHE_HOME/trace-request/traces.db``.

    ``XDG_CACHE_HOME`` defaults to ``~/.cache``; a relative value is ignored,
    as the XDG spec asks.
    """
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(cache) if cache and os.path.isabs(cache) else Path.home() / ".cache"
    return base / "trace-request" / "traces.db"


def summarize(trace: Trace) -> TraceSummary:
    """The columns stored next to the document, taken from the request and the root span."""
    root = next((s for s in trace.spans if s.parent_id is None), None)
    attributes = root.attributes if root is not None else {}
    status = trace.status_code
    route = trace.request.get("route") or attributes.get("http.route")
    response = response_ns(trace)
    return TraceSummary(
        trace_id=trace.trace_id,
        started_ns=trace.start_ns,
        method=str(trace.request.get("method") or attributes.get("http.request.method") or ""),
        path=str(trace.request.get("path") or attributes.get("url.path") or ""),
        route=None if route is None else str(route),
        status=status,
        duration_ns=response if response is not None else trace.end_ns - trace.start_ns,
        span_count=len(trace.spans),
        error=status is None or status >= 500 or (root is not None and root.status == "error"),
    )


def _row(trace: Trace) -> _Row:
    s = summarize(trace)
    # compact JSON, fastest zlib level: half the writer's CPU of the defaults, ~10 % bigger
    document = zlib.compress(trace.to_json(indent=None).encode("utf-8"), 1)
    return (
        s.trace_id,
        s.started_ns,
        s.method,
        s.path,
        s.route,
        s.status,
        s.duration_ns,
        s.span_count,
        int(s.error),
        document,
    )


def _summary(row: Sequence[Any]) -> TraceSummary:
    trace_id, started, method, path, route, status, duration, spans, error = row
    return TraceSummary(
        trace_id=str(trace_id),
        started_ns=int(started or 0),
        method=str(method or ""),
        path=str(path or ""),
        route=None if route is None else str(route),
        status=None if status is None else int(status),
        duration_ns=int(duration or 0),
        span_count=int(spans or 0),
        error=bool(error),
    )


def _is_locked(error: sqlite3.Error) -> bool:
    return "locked" in str(error) or "busy" in str(error)


# ---------------------------------------------------------------------------
# creating the file privately


def _make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and missing parents as 0o700 whatever the umask; leave others alone."""
    missing: list[Path] = []
    current = directory
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue  # another worker made it first
        os.chmod(path, 0o700)


def _create_private_file(path: Path) -> None:
    """Create the database file as 0o600 before SQLite does (SQLite would honour the umask).

    SQLite gives the ``-wal`` and ``-shm`` files the main file's permissions,
    so they are private too. An existing file keeps the mode its owner chose.
    """
    _make_private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _connect_writer(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """A read-write connection to a WAL database holding the ``traces`` table."""
    _create_private_file(path)
    conn = sqlite3.connect(
        str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        # WAL + NORMAL: a commit is an append, no fsync; a power cut may lose the last traces.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.close()
        raise
    return conn


# ---------------------------------------------------------------------------
# the store


class _Flush:
    """A marker on the queue: everything before it has been handled once ``done`` is set."""

    __slots__ = ("done", "stop")

    def __init__(self, *, stop: bool = False) -> None:
        self.done = threading.Event()
        self.stop = stop


_Item = Trace | _Flush
_live_stores: weakref.WeakSet[TraceStore] = weakref.WeakSet()
#: Connections a forked child inherited: SQLite must not use or close them there.
_inherited: list[sqlite3.Connection] = []


class TraceStore:
    """The last ``max_traces`` traces in a SQLite file; a sink and a reader.

    As a sink (``store(trace)`` or ``store.add(trace)``) it never blocks and
    never raises; see the module docstring. ``written`` and ``dropped`` count
    what happened to the traces this process added. ``flush()`` waits for the
    queue to be written; ``close()`` drains it and stops the writer thread,
    and runs at interpreter exit for a store that was written to.

    ``queue_size`` bounds the memory held while the disk or a lock stalls the
    writer (a queued trace is a live object, tens of kB); the writer drains
    thousands of traces a second, so a short stall under load costs traces,
    not memory.

    The readers (``list``, ``get``, ``since``, ``count``, ``arrived_after``)
    never create the file and raise :class:`StoreError` with a one-line
    message when the store is missing, corrupt, locked or unreadable.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        max_traces: int = DEFAULT_MAX_TRACES,
        queue_size: int = 1000,
        batch_size: int = 100,
        flush_interval: float = 0.05,
        busy_timeout: float = 5.0,
    ) -> None:
        if max_traces < 1:
            raise ValueError(f"max_traces must be at least 1, not {max_traces}")
        if queue_size < 1 or batch_size < 1:
            raise ValueError("queue_size and batch_size must be at least 1")
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.max_traces = max_traces
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.busy_timeout = busy_timeout
        self._queue_size = queue_size
        self._reset_process_state()
        _live_stores.add(self)

    def _reset_process_state(self) -> None:
        """Fresh locks, queue, counters and connections (at creation, and in a forked child)."""
        # a deque, not a queue.Queue: ``add`` is one C-level append on the request path
        # (no lock, no Condition), and the writer wakes once per batch, not per trace
        self._pending: collections.deque[_Item] = collections.deque()
        self._wakeup = threading.Event()  # set when work arrives at an idle writer
        self._hurry = threading.Event()  # set when a flush or close waits
        self._markers = 0  # flush/close markers in ``_pending`` (under ``_lock``)
        self._lock = threading.Lock()  # starting/stopping the writer
        self._count_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._written = 0
        self._dropped = 0
        self._logged_failure = False
        # SQLite connections must not be used or closed across fork(): a child keeps
        # the parent's alive (and untouched) for good.
        for conn in (getattr(self, "_reader", None), *getattr(self, "_writer_conn", ())):
            if conn is not None:
                _inherited.append(conn)
        self._reader: sqlite3.Connection | None = None
        #: the writer thread's connection (zero or one), opened on its first batch
        self._writer_conn: list[sqlite3.Connection] = []

    # -- counters -----------------------------------------------------------

    @property
    def written(self) -> int:
        """Traces this process committed to the file."""
        return self._written

    @property
    def dropped(self) -> int:
        """Traces this process gave up on: queue full, store closed, or a write failed."""
        return self._dropped

    def _drop(self, n: int = 1) -> None:
        with self._count_lock:
            self._dropped += n

    # -- the sink -------------------------------------------------------------

    def __call__(self, trace: Trace) -> None:
        self.add(trace)

    def add(self, trace: Trace) -> None:
        """Queue ``trace`` for writing: O(1), never blocks, never raises.

        The trace must not be changed afterwards; it is serialised on the
        writer thread.
        """
        try:
            if self._closed or (self._thread is None and not self._start_writer()):
                self._drop()
                return
            if len(self._pending) >= self._queue_size:
                self._drop()
                return
            self._pending.append(trace)
            if not self._wakeup.is_set():
                self._wakeup.set()
        except Exception as exc:  # a sink must never raise into the request
            self._drop()
            self._log_failure("queue", exc)

    def _start_writer(self) -> bool:
        """Start the writer thread on first use, so a store opened to read starts none."""
        with self._lock:
            if self._closed:
                return False
            if self._thread is None:
                thread = threading.Thread(
                    target=self._run, name="trace-request store writer", daemon=True
                )
                thread.start()
                self._thread = thread
                atexit.register(self._close_at_exit)
            return True

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every trace added before this call is written (or dropped).

        ``False`` if that took longer than ``timeout`` seconds.
        """
        if self._thread is None or not self._thread.is_alive():
            return True
        marker = _Flush()
        self._post(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, stop the writer and close the reader; idempotent.

        Traces added after ``close()`` are dropped and counted. Reading still
        works (the reader reopens).
        """
        self._close_reader()  # first: the last connection to close tidies the -wal file away
        with self._lock:
            already, self._closed = self._closed, True
            thread = self._thread
        if not already and thread is not None:
            atexit.unregister(self._close_at_exit)
            self._post(_Flush(stop=True))
            # a stuck writer is a daemon thread: it dies with the process
            thread.join(timeout)

    def _post(self, marker: _Flush) -> None:
        """Queue a flush/close marker and cut the writer's gathering wait short."""
        with self._lock:
            self._markers += 1
        self._pending.append(marker)
        self._hurry.set()
        self._wakeup.set()

    def _close_at_exit(self) -> None:
        try:
            self.close()
        except Exception:
            pass  # interpreter shutdown: nothing left to tell

    def __enter__(self) -> TraceStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the writer thread --------------------------------------------------

    def _run(self) -> None:
        """The writer thread: batch, write, repeat until a stop marker arrives."""
        conn = self._writer_conn
        stop = False
        while not stop:
            batch, markers = self._next_batch()
            try:
                if batch:
                    self._write_batch(batch, conn)
            except Exception as exc:  # a bug here must not kill the thread and fill the queue
                self._fail(len(batch), exc)
            for marker in markers:
                stop = stop or marker.stop
                marker.done.set()
        self._discard(conn)
        self._drop_leftovers()

    def _next_batch(self) -> tuple[list[Trace], list[_Flush]]:
        """Up to ``batch_size`` traces, gathered for ``flush_interval`` after the first.

        A waiting flush or close cuts the gathering short, and a marker ends
        the batch, so ``flush()`` and ``close()`` return promptly.
        """
        pending = self._pending
        while not pending:
            self._wakeup.wait()
            self._wakeup.clear()
        if not self._markers and len(pending) < self.batch_size:
            self._hurry.wait(self.flush_interval)  # let a batch build up
        self._hurry.clear()
        batch: list[Trace] = []
        while pending and len(batch) < self.batch_size:
            item = pending.popleft()
            if isinstance(item, _Flush):
                with self._lock:
                    self._markers -= 1
                return batch, [item]
            batch.append(item)
        return batch, []

    def _drop_leftovers(self) -> None:
        """Count traces that raced ``close()`` into the queue; release any flush waiter."""
        while True:
            try:
                item = self._pending.popleft()
            except IndexError:
                return
            if isinstance(item, _Flush):
                item.done.set()
            else:
                self._drop()

    def _write_batch(self, traces: list[Trace], conn: list[sqlite3.Connection]) -> None:
        """Insert and trim in one transaction; on failure drop the batch, log once, go on."""
        rows = self._rows(traces)
        if not rows:
            return
        for attempt in range(_LOCK_RETRIES):
            try:
                if not conn:
                    conn.append(_connect_writer(self.path, self.busy_timeout))
                self._insert(conn[0], rows)
            except sqlite3.Error as exc:
                self._discard(conn)
                if _is_locked(exc) and attempt + 1 < _LOCK_RETRIES:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                self._fail(len(rows), exc)
            except Exception as exc:  # OSError (disk full, permissions), anything else
                self._discard(conn)
                self._fail(len(rows), exc)
            else:
                with self._count_lock:
                    self._written += len(rows)
            return

    def _rows(self, traces: Iterable[Trace]) -> list[_Row]:
        rows: list[_Row] = []
        for trace in traces:
            try:
                rows.append(_row(trace))
            except Exception as exc:  # a malformed trace costs itself, not the batch
                self._fail(1, exc)
        return rows

    def _insert(self, conn: sqlite3.Connection, rows: list[_Row]) -> None:
        conn.execute("BEGIN IMMEDIATE")  # take the write lock now, under the busy timeout
        try:
            conn.executemany(_INSERT, rows)
            conn.execute(_TRIM, (self.max_traces,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @staticmethod
    def _discard(conn: list[sqlite3.Connection]) -> None:
        """Forget a connection that failed; the next batch reopens (the disk may be back)."""
        while conn:
            try:
                conn.pop().close()
            except sqlite3.Error:
                pass

    def _fail(self, n: int, error: BaseException) -> None:
        self._drop(n)
        self._log_failure("write", error)

    def _log_failure(self, what: str, error: BaseException) -> None:
        if self._logged_failure:
            return
        self._logged_failure = True
        logger.warning(
            "trace-request: cannot %s traces to the store %s (%s: %s); traces are dropped "
            "and counted in TraceStore.dropped, the app is unaffected. Further failures "
            "are counted silently.",
            what,
            self.path,
            type(error).__name__,
            error,
        )

    # -- readers ---------------------------------------------------------------

    def list(
        self,
        limit: int = 20,
        *,
        route: str | None = None,
        status: int | None = None,
        errors_only: bool = False,
    ) -> _Summaries:
        """The newest ``limit`` traces, newest first.

        ``route`` matches the route template or the literal path.
        """
        where: list[str] = []
        params: list[object] = []
        if route is not None:
            where.append("(route = ? OR path = ?)")
            params += [route, route]
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if errors_only:
            where.append("error = 1")
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        sql = (
            f"SELECT {_SUMMARY_COLUMNS} FROM traces {clause}"
            "ORDER BY started_ns DESC, rowid DESC LIMIT ?"
        )
        return [_summary(r) for r in self._fetch(sql, (*params, limit))]

    def since(self, started_ns_exclusive: int, limit: int = 100) -> _Summaries:
        """Traces that started after ``started_ns_exclusive``, oldest first."""
        sql = (
            f"SELECT {_SUMMARY_COLUMNS} FROM traces WHERE started_ns > ? "
            "ORDER BY started_ns, rowid LIMIT ?"
        )
        return [_summary(r) for r in self._fetch(sql, (started_ns_exclusive, limit))]

    def cursor(self) -> int:
        """The position of the latest arrival, for :meth:`arrived_after` (0: empty)."""
        rows = self._fetch("SELECT max(rowid) FROM traces", ())
        return int(rows[0][0] or 0) if rows else 0

    def arrived_after(self, cursor: int, limit: int = 100) -> tuple[_Summaries, int]:
        """Traces stored after position ``cursor``, in arrival order, and the new cursor.

        This is what ``tail`` follows rather than :meth:`since`: a slow request
        is stored after faster ones that started later, and a start-time
        cursor would skip it.
        """
        rows = self._fetch(
            f"SELECT rowid, {_SUMMARY_COLUMNS} FROM traces WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (cursor, limit),
        )
        if not rows:
            return [], cursor
        return [_summary(r[1:]) for r in rows], int(rows[-1][0])

    def count(self) -> int:
        rows = self._fetch("SELECT count(*) FROM traces", ())
        return int(rows[0][0]) if rows else 0

    def get(self, trace_id: str) -> Trace | None:
        """The trace with this id, or with this unique prefix of at least 6 hex digits.

        Raises :class:`AmbiguousTraceId` when the prefix matches several traces.
        """
        found = self._fetch("SELECT trace_id, document FROM traces WHERE trace_id = ?", (trace_id,))
        prefix = trace_id.strip().lower()
        if not found and len(prefix) >= MIN_PREFIX and set(prefix) <= _HEX:
            found = self._fetch(
                "SELECT trace_id, document FROM traces WHERE trace_id GLOB ? LIMIT 2",
                (prefix + "*",),
            )
            if len(found) > 1:
                raise AmbiguousTraceId(
                    f"trace id prefix {prefix!r} matches several traces in {self.path}; "
                    "give more characters"
                )
        if not found:
            return None
        stored_id, document = found[0]
        return self._decode(str(stored_id), document)

    def _decode(self, trace_id: str, document: object) -> Trace:
        try:
            if not isinstance(document, bytes):
                raise TypeError(f"document is {type(document).__name__}, not bytes")
            return Trace.from_json(zlib.decompress(document).decode("utf-8"))
        except (zlib.error, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"trace {trace_id} in {self.path} is unreadable ({type(exc).__name__}: {exc})"
            ) from exc

    def _fetch(self, sql: str, params: Sequence[object]) -> _Fetched:
        """Run a read query; every failure becomes a one-line :class:`StoreError`."""
        with self._read_lock:
            try:
                conn = self._open_reader()
                if conn is None:
                    return []
                return conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                self._close_reader_locked()
                raise StoreError(self._explain(exc)) from exc

    def _open_reader(self) -> sqlite3.Connection | None:
        """The read-only connection, opened on first use; ``None`` for a file not set up yet."""
        if self._reader is not None:
            return self._reader
        if not self.path.is_file():
            what = "is not a file" if self.path.exists() else "does not exist"
            raise StoreError(f"no trace store at {self.path} (the path {what})")
        # mode=rw never creates the file, and as the last connection to close it
        # can fold the -wal file back in (SQLite opens a read-only file read-only);
        # query_only keeps it a reader.
        uri = f"{self.path.resolve().as_uri()}?mode=rw"
        conn = sqlite3.connect(
            uri, uri=True, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            conn.execute("PRAGMA query_only = ON")
            if not self._has_schema(conn):
                conn.close()
                return None
        except BaseException:
            conn.close()
            raise
        self._reader = conn
        return conn

    def _has_schema(self, conn: sqlite3.Connection) -> bool:
        """Whether the file holds our table.

        A database with no tables at all is a store a writer is creating (the
        file exists and is switched to WAL before the table is committed): it
        reads as empty. A database with other tables is someone else's.
        """
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer trace-request (store version {version})"
            )
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if tables and "traces" not in tables:
            raise StoreError(f"{self.path} is not a trace-request store (no traces table)")
        return "traces" in tables

    def _explain(self, error: sqlite3.Error) -> str:
        message = str(error)
        if "not a database" in message or "malformed" in message:
            return f"{self.path} is not a trace-request store or is corrupt ({message})"
        if _is_locked(error):
            return f"the trace store {self.path} is locked by another process; try again"
        if "readonly" in message or "unable to open" in message:
            return (
                f"cannot open the trace store {self.path} ({message}); reading it needs "
                "read access to the file and write access to its directory"
            )
        return f"cannot read the trace store {self.path} ({message})"

    def _close_reader(self) -> None:
        with self._read_lock:
            self._close_reader_locked()

    def _close_reader_locked(self) -> None:
        conn, self._reader = self._reader, None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:
                pass


def _after_fork_in_child() -> None:
    """A forked worker gets its own queue and writer; the parent's thread did not survive."""
    for store in list(_live_stores):
        store._reset_process_state()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


__all__ = [
    "DEFAULT_MAX_TRACES",
    "ENV_VAR",
    "AmbiguousTraceId",
    "StoreError",
    "TraceStore",
    "TraceSummary",
    "default_path",
    "summarize",
]
