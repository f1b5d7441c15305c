"""The writing half of the store: a bounded queue and one thread that batches traces into SQLite.

Writing happens on the request's task, after the response. ``add()`` only
puts the trace and its arrival time on a bounded queue (when it is full the
trace is dropped and counted, never waited for). One daemon thread offers
each trace to the budget (:mod:`.budget`), encodes only those it keeps,
inserts them in batches with the budget's counts, trims the table to the newest ``max_traces``
rows and swallows every failure: a full disk, a read-only or corrupt file or
a lock held too long costs traces (counted in ``dropped``, logged once),
never the host app's requests.

Several processes (uvicorn or gunicorn workers) may write one file at once:
the database is in WAL mode, every writer takes the write lock up front
(``BEGIN IMMEDIATE``) with a busy timeout, and retries when it still finds
the file locked.

Before it opens the file the writer checks its path (:mod:`.files`): a path
someone else could have prepared (a symlink, a file or directory writable by
others or owned by another user) is refused with one warning, and the store
then drops every trace; the app goes on without it.
"""

from __future__ import annotations

import atexit
import collections
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tracer import safety
from tracer.model import Trace
from tracer.sinks.store.budget import Admission, Budget, Decision, WindowCounts
from tracer.sinks.store.encoding import Row, row
from tracer.sinks.store.files import UnsafeStore
from tracer.sinks.store.schema import (
    ADD_COUNTS,
    COUNTS_KEPT_NS,
    INSERT,
    TRIM,
    TRIM_COUNTS,
    connect_writer,
    counts_row,
    is_locked,
)

logger = logging.getLogger("trace_request")
_connect_writer = connect_writer  # a module attribute: the fault tests replace it

_LOCK_RETRIES = 3


class _Flush:
    """A marker on the queue: everything before it has been handled once ``done`` is set."""

    __slots__ = ("done", "stop")

    def __init__(self, *, stop: bool = False) -> None:
        self.done = threading.Event()
        self.stop = stop


#: a trace and when it arrived (the budget's clock, read in ``add``); ``None`` for an
#: ordinary trace the admission let go (counted, not held), or a marker
_Arrival = tuple[Trace | None, float]
_Item = _Arrival | _Flush


class StoreWriter:
    """The sink side of :class:`~tracer.sinks.store.TraceStore`: queue, writer thread, counters.

    The thread starts on the first ``add()``, so a store opened only to read
    starts none.
    """

    path: Path
    max_traces: int
    batch_size: int
    flush_interval: float
    busy_timeout: float
    _queue_size: int
    _recent_size: int
    _clock: Callable[[], float]
    _new_budget: Callable[[], tuple[Budget, Admission]]

    def _reset_writer(self) -> None:
        """Fresh locks, queue, counters and connection (at creation, and in a forked child)."""
        # a deque, not a queue.Queue: ``add`` is one C-level append on the request path
        # (no lock, no Condition), and the writer wakes once per batch, not per trace
        self._pending: collections.deque[_Item] = collections.deque()
        self._wakeup = threading.Event()  # set when work arrives at an idle writer
        self._hurry = threading.Event()  # set when a flush or close waits
        self._markers = 0  # flush/close markers in ``_pending`` (under ``_lock``)
        self._lock = threading.Lock()  # starting/stopping the writer
        self._count_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._written = 0
        self._dropped = 0
        self._logged_failure = False
        #: why the path was refused (:mod:`.files`); then every trace is dropped
        self._refused: str | None = None
        #: the writer thread's connection (zero or one), opened on its first batch
        self._writer_conn: list[sqlite3.Connection] = []
        #: what to persist (used by the writer thread only)
        self._budget, self._admission = self._new_budget()
        #: the latest traces offered, persisted or not: ``get()`` finds them in this process
        self._recent: collections.deque[Trace] = collections.deque(maxlen=self._recent_size)

    # -- counters -----------------------------------------------------------

    @property
    def written(self) -> int:
        """Traces this process committed to the file."""
        return self._written

    @property
    def dropped(self) -> int:
        """Traces this process gave up on: queue full, store closed, or a write failed."""
        return self._dropped

    @property
    def budget_dropped(self) -> int:
        """Traces this process chose not to persist (the budget; not counted in ``dropped``)."""
        return self._budget.dropped

    def _held(self, trace_id: str) -> Trace | None:
        """A recent trace of this process, persisted or not (what ``get()`` falls back to)."""
        for trace in list(self._recent):  # a copy: the writer thread appends
            if trace.trace_id == trace_id:
                return trace
        return None

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
            if (
                self._closed
                or self._refused is not None
                or (self._thread is None and not self._start_writer())
            ):
                self._drop()
                return
            if len(self._pending) >= self._queue_size:
                self._drop()
                return
            now = self._clock()
            admitted = self._admission.admit(trace, now)
            self._pending.append((trace if admitted else None, now))
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
        """Write what is queued and stop the writer; idempotent."""
        self._stop_writer(timeout)

    def _stop_writer(self, timeout: float) -> None:
        """Traces added after this are dropped and counted."""
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

    # -- the writer thread --------------------------------------------------

    def _run(self) -> None:
        """The writer thread: gather, let the budget choose, write, repeat until told to stop."""
        conn = self._writer_conn
        stop = False
        while not stop:
            batch, markers = self._next_batch()
            decisions: list[Decision] = []
            counts: list[WindowCounts] = []
            try:
                decisions, counts = self._choose(batch, flush=bool(markers))
                if decisions or counts:
                    self._write_batch(decisions, counts, conn)
            except Exception as exc:  # a bug here must not kill the thread and fill the queue
                self._fail(len(decisions), exc)
            for marker in markers:
                stop = stop or marker.stop
                marker.done.set()
        self._discard(conn)
        self._drop_leftovers()

    def _choose(
        self, batch: list[_Arrival], *, flush: bool
    ) -> tuple[list[Decision], list[WindowCounts]]:
        """Offer the batch to the budget: what to write now, and the counts to add."""
        budget = self._budget
        decisions: list[Decision] = []
        for trace, arrived in batch:
            if trace is None:
                decisions += budget.reject(arrived)
                continue
            self._recent.append(trace)
            try:
                decisions += budget.offer(trace, arrived)
            except Exception as exc:  # a malformed trace costs itself, not the batch
                self._fail(1, exc)
        decisions += budget.settle(self._clock())  # a window that ended meanwhile
        if flush:
            decisions += budget.flush()
        # counts ride along with rows; alone, only once a window is over or a flush asks
        counts = budget.take_counts() if decisions or flush or budget.closed() else []
        return decisions, counts

    def _next_batch(self) -> tuple[list[_Arrival], list[_Flush]]:
        """Up to ``batch_size`` traces, gathered for ``flush_interval`` after the first.

        A waiting flush or close cuts the gathering short, and a marker ends
        the batch, so ``flush()`` and ``close()`` return promptly. With
        traces waiting for the end of the budget's window, an empty batch
        comes back at that end.
        """
        pending = self._pending
        while not pending:
            due = self._budget.due()
            if due is None:
                self._wakeup.wait()
            elif not self._wakeup.wait(min(max(due - self._clock(), 0.01), 60.0)):
                return [], []
            self._wakeup.clear()
        if not self._markers and len(pending) < self.batch_size:
            self._hurry.wait(self.flush_interval)  # let a batch build up
        self._hurry.clear()
        batch: list[_Arrival] = []
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

    def _write_batch(
        self,
        decisions: list[Decision],
        counts: list[WindowCounts],
        conn: list[sqlite3.Connection],
    ) -> None:
        """Insert, count and trim in one transaction; on failure drop the batch, log once, go on.

        Only the traces the budget chose are encoded.
        """
        if self._refused is not None:  # queued before the refusal
            self._drop(len(decisions))
            return
        rows = self._rows(decisions)
        if not rows and not counts:
            return
        for attempt in range(_LOCK_RETRIES):
            try:
                if not conn:
                    conn.append(_connect_writer(self.path, self.busy_timeout))
                self._insert(conn[0], rows, counts)
            except UnsafeStore as exc:
                self._drop(len(rows))
                self._refuse(exc)
            except sqlite3.Error as exc:
                self._discard(conn)
                if is_locked(exc) and attempt + 1 < _LOCK_RETRIES:
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

    def _rows(self, decisions: list[Decision]) -> list[Row]:
        rows: list[Row] = []
        for trace, reason in decisions:
            try:
                rows.append(row(trace, reason))
            except Exception as exc:  # a malformed trace costs itself, not the batch
                self._fail(1, exc)
        return rows

    def _insert(
        self, conn: sqlite3.Connection, rows: list[Row], counts: list[WindowCounts]
    ) -> None:
        conn.execute("BEGIN IMMEDIATE")  # take the write lock now, under the busy timeout
        try:
            if rows:
                conn.executemany(INSERT, rows)
                conn.execute(TRIM, (self.max_traces,))
            if counts:
                conn.executemany(ADD_COUNTS, [counts_row(c) for c in counts])
                conn.execute(TRIM_COUNTS, (COUNTS_KEPT_NS,))
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

    def _refuse(self, error: UnsafeStore) -> None:
        """Give up on an unsafe path for good (in this process): it will not fix itself."""
        self._refused = str(error)
        self._logged_failure = True  # the refusal is this store's one line
        safety.warn_once(
            f"store refused {self.path}",
            f"refusing to write traces to the store {self.path}: {error}. Traces are dropped "
            "and counted in TraceStore.dropped, the app is unaffected. Use a path in a "
            "directory only this user can write to (docs/store.md, 'Permissions and safety').",
        )

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
