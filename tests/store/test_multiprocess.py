"""Several worker processes writing one store file at once, as uvicorn --workers does."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import time
import warnings
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from tests.store.conftest import make_trace
from tracer.sinks.store import TraceStore

PROCESSES = 4
PER_PROCESS = 200


def _worker(path: str, index: int, start: Barrier, results: multiprocessing.Queue[object]) -> None:
    """One worker: open the store at the same moment as the others, write, report counters."""
    try:
        store = TraceStore(path, max_traces=300, batch_size=10, flush_interval=0.005, budget=None)
        start.wait(30)  # all four create the file, switch to WAL and write together
        for n in range(PER_PROCESS):
            store.add(make_trace(index * 10_000 + n))
        flushed = store.flush(30)
        store.close()
        results.put((index, flushed, store.written, store.dropped))
    except BaseException as exc:  # reported to the parent instead of dying silently
        results.put((index, repr(exc)))


def test_four_processes_one_file(tmp_path: Path) -> None:
    path = tmp_path / "traces.db"
    context = multiprocessing.get_context("spawn")  # what uvicorn uses for its workers
    start = context.Barrier(PROCESSES)
    results: multiprocessing.Queue[object] = context.Queue()
    processes = [
        context.Process(target=_worker, args=(str(path), index, start, results), daemon=True)
        for index in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        reports = sorted(results.get(timeout=60) for _ in processes)  # type: ignore[type-var]
        for process in processes:
            process.join(timeout=30)
            assert process.exitcode == 0
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
    assert reports == [(index, True, PER_PROCESS, 0) for index in range(PROCESSES)]
    with sqlite3.connect(path) as conn:
        (rows,) = conn.execute("SELECT count(*) FROM traces").fetchone()
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
        (check,) = conn.execute("PRAGMA integrity_check").fetchone()
    conn.close()
    assert (rows, mode, check) == (300, "wal", "ok")
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() here")
def test_a_forked_worker_gets_its_own_writer(tmp_path: Path) -> None:
    """gunicorn --preload forks workers from a process whose store may already be writing."""
    store = TraceStore(tmp_path / "traces.db", flush_interval=0.01)
    store.add(make_trace(1))
    assert store.flush()
    assert store.count() == 1  # the parent has a reader and a writer connection open
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            for n in range(2, 12):
                store.add(make_trace(n))
            ok = store.flush(10) and (store.written, store.dropped) == (10, 0)
            code = 0 if ok and store.count() == 11 else 1
            store.close()
        finally:
            os._exit(code)
    deadline = time.monotonic() + 30
    while (status := os.waitpid(pid, os.WNOHANG))[0] == 0:
        assert time.monotonic() < deadline, "the forked writer hung"
        time.sleep(0.02)
    assert os.waitstatus_to_exitcode(status[1]) == 0
    store.add(make_trace(20))  # the parent's writer is unaffected
    assert store.flush()
    assert (store.written, store.count()) == (2, 12)
    store.close()
