"""``TraceStore``: the writer and the reader over one file, and their life across ``fork()``."""

from __future__ import annotations

import os
import random
import sqlite3
import time
import weakref
from collections.abc import Callable
from pathlib import Path

from tracer.sinks.store.budget import (
    DEFAULT_PER_SECOND,
    DEFAULT_SLOW_MS,
    DEFAULT_WINDOW,
    Admission,
    Budget,
)
from tracer.sinks.store.paths import default_path
from tracer.sinks.store.reader import StoreReader
from tracer.sinks.store.writer import StoreWriter

DEFAULT_MAX_TRACES = 1000

_live_stores: weakref.WeakSet[TraceStore] = weakref.WeakSet()
#: Connections a forked child inherited: SQLite must not use or close them there.
_inherited: list[sqlite3.Connection] = []


class TraceStore(StoreWriter, StoreReader):
    """The last ``max_traces`` persisted traces in a SQLite file; a sink and a reader.

    At most ``budget`` traces a second are persisted (``None``: all), chosen
    by :mod:`tracer.sinks.store.budget`: triggered requests, errors, the
    slowest, then a sample of the rest; under the budget, all of them.
    ``budget_dropped`` counts the others, and the file keeps per-window
    counts for :meth:`budget_stats`. The last ``recent_size`` traces offered
    stay in memory, so ``get()`` in this process finds them even when they
    were not persisted. ``clock`` (wall-clock seconds) and ``seed`` are for
    tests.

    As a sink (``store(trace)`` or ``store.add(trace)``) it never blocks and
    never raises; see :mod:`tracer.sinks.store.writer`. ``written`` and
    ``dropped`` count what happened to the traces this process added.
    ``flush()`` waits for the queue to be written; ``close()`` drains it and
    stops the writer thread, and runs at interpreter exit for a store that was
    written to.

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
        budget: float | None = DEFAULT_PER_SECOND,
        slow_ms: float | None = DEFAULT_SLOW_MS,
        budget_window: float = DEFAULT_WINDOW,
        recent_size: int = 100,
        queue_size: int = 1000,
        batch_size: int = 100,
        flush_interval: float = 0.05,
        busy_timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
    ) -> None:
        if max_traces < 1:
            raise ValueError(f"max_traces must be at least 1, not {max_traces}")
        if queue_size < 1 or batch_size < 1:
            raise ValueError("queue_size and batch_size must be at least 1")
        if recent_size < 0:
            raise ValueError(f"recent_size must not be negative, not {recent_size}")
        Budget(budget, window=budget_window, slow_ms=slow_ms)  # reject bad values here, not later
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.max_traces = max_traces
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.busy_timeout = busy_timeout
        self._queue_size = queue_size
        self._recent_size = recent_size
        self._clock = clock
        self.budget = budget

        def new_budget() -> tuple[Budget, Admission]:
            rng = random.Random(seed)
            policy = Budget(budget, window=budget_window, slow_ms=slow_ms, rng=rng)
            return policy, Admission(policy, random.Random(None if seed is None else seed + 1))

        self._new_budget = new_budget
        self._reset_process_state()
        _live_stores.add(self)

    def _reset_process_state(self) -> None:
        """Fresh locks, queue, counters and connections (at creation, and in a forked child)."""
        # SQLite connections must not be used or closed across fork(): a child keeps
        # the parent's alive (and untouched) for good.
        for conn in (getattr(self, "_reader", None), *getattr(self, "_writer_conn", ())):
            if conn is not None:
                _inherited.append(conn)
        self._reset_writer()
        self._reset_reader()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, stop the writer and close the reader; idempotent.

        Traces added after ``close()`` are dropped and counted. Reading still
        works (the reader reopens).
        """
        self._close_reader()  # first: the last connection to close tidies the -wal file away
        self._stop_writer(timeout)

    def __enter__(self) -> TraceStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _after_fork_in_child() -> None:
    """A forked worker gets its own queue and writer; the parent's thread did not survive."""
    for store in list(_live_stores):
        store._reset_process_state()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
