"""The tables, the SQL both halves of the store agree on, and opening a file to write it.

Version 2 added ``kept_because`` to ``traces`` and the ``budget_windows``
table (what the persistence budget was offered and kept, per window). A
version-1 file is migrated in place by the first writer that opens it
(``ALTER TABLE ... ADD COLUMN`` under the write lock: old rows keep their
documents and read with ``kept_because`` empty); readers of a version-1 file
read ``kept_because`` as ``None`` and budget counts as none.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tracer.sinks.store.budget import KINDS, REASONS, WindowCounts
from tracer.sinks.store.files import prepare_for_writing

#: Bumped when the tables change; readers refuse files from a newer version.
SCHEMA_VERSION = 2

SCHEMA = (
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
        document BLOB,
        kept_because TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS traces_started_ns ON traces (started_ns)",
    f"""CREATE TABLE IF NOT EXISTS budget_windows (
        start_ns INTEGER PRIMARY KEY,
        window_ns INTEGER,
        per_second REAL,
        {", ".join(f"offered_{k} INTEGER DEFAULT 0" for k in KINDS)},
        {", ".join(f"kept_{r} INTEGER DEFAULT 0" for r in REASONS)}
    )""",
)
INSERT = (
    "INSERT OR REPLACE INTO traces (trace_id, started_ns, method, path, route, status,"
    " duration_ns, span_count, error, document, kept_because)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Rows are trimmed in arrival (rowid) order: the newest row always survives, so
# rowids only grow and ``arrived_after`` can follow the table like ``tail -f``.
TRIM = (
    "DELETE FROM traces WHERE rowid <= "
    "(SELECT rowid FROM traces ORDER BY rowid DESC LIMIT 1 OFFSET ?)"
)
SUMMARY_COLUMNS = (
    "trace_id, started_ns, method, path, route, status, duration_ns, span_count, error,"
    " kept_because"
)
#: What a version-1 file (no ``kept_because`` column) is read with.
SUMMARY_COLUMNS_V1 = SUMMARY_COLUMNS.replace("kept_because", "NULL")

_COUNT_COLUMNS = [f"offered_{k}" for k in KINDS] + [f"kept_{r}" for r in REASONS]
#: Several worker processes count into one window row: add, never overwrite.
ADD_COUNTS = (
    f"INSERT INTO budget_windows (start_ns, window_ns, per_second, {', '.join(_COUNT_COLUMNS)})"
    f" VALUES (?, ?, ?, {', '.join('?' for _ in _COUNT_COLUMNS)})"
    " ON CONFLICT (start_ns) DO UPDATE SET per_second = excluded.per_second, "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in _COUNT_COLUMNS)
)
#: An hour of window counts is plenty for ``list``'s last minute.
TRIM_COUNTS = (
    "DELETE FROM budget_windows WHERE start_ns < (SELECT max(start_ns) FROM budget_windows) - ?"
)
COUNTS_KEPT_NS = 3600 * 10**9
BUDGET_COLUMNS = f"start_ns, window_ns, per_second, {', '.join(_COUNT_COLUMNS)}"


def counts_row(counts: WindowCounts) -> tuple[object, ...]:
    """The parameters of :data:`ADD_COUNTS` for one window."""
    return (
        counts.start_ns,
        counts.window_ns,
        counts.per_second,
        *(counts.offered[k] for k in KINDS),
        *(counts.kept[r] for r in REASONS),
    )


def is_locked(error: sqlite3.Error) -> bool:
    """Whether ``error`` is another process holding the lock (worth a retry), not a broken file."""
    return "locked" in str(error) or "busy" in str(error)


class NewerStore(sqlite3.DatabaseError):
    """The file was written by a newer trace-request: this writer must not touch it."""


def connect_writer(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """A read-write connection to a WAL database holding the current tables (migrated)."""
    prepare_for_writing(path)
    conn = sqlite3.connect(
        str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        # WAL + NORMAL: a commit is an append, no fsync; a power cut may lose the last traces.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others then see version 2
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise NewerStore(f"written by a newer trace-request (store version {version})")
        for statement in SCHEMA:
            conn.execute(statement)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(traces)")}
        if "kept_because" not in columns:  # a version-1 file
            conn.execute("ALTER TABLE traces ADD COLUMN kept_because TEXT")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.close()
        raise
    return conn
