"""The one table, and the SQL both halves of the store agree on."""

from __future__ import annotations

import sqlite3

#: Bumped when the table changes; readers refuse files from a newer version.
SCHEMA_VERSION = 1

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
        document BLOB
    )""",
    "CREATE INDEX IF NOT EXISTS traces_started_ns ON traces (started_ns)",
)
INSERT = (
    "INSERT OR REPLACE INTO traces (trace_id, started_ns, method, path, route, status,"
    " duration_ns, span_count, error, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Rows are trimmed in arrival (rowid) order: the newest row always survives, so
# rowids only grow and ``arrived_after`` can follow the table like ``tail -f``.
TRIM = (
    "DELETE FROM traces WHERE rowid <= "
    "(SELECT rowid FROM traces ORDER BY rowid DESC LIMIT 1 OFFSET ?)"
)
SUMMARY_COLUMNS = (
    "trace_id, started_ns, method, path, route, status, duration_ns, span_count, error"
)


def is_locked(error: sqlite3.Error) -> bool:
    """Whether ``error`` is another process holding the lock (worth a retry), not a broken file."""
    return "locked" in str(error) or "busy" in str(error)
