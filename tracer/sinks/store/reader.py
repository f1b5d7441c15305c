"""The reading half of the store: the queries behind ``list``, ``show``, ``tail`` and the endpoint.

Reading never creates the file, never writes a row, never follows a symlink
at the file's name (SQLite may write the ``-wal`` back into the file it
opens) and reports every problem as a one-line :class:`StoreError`, which
the CLI prints as is.
"""

from __future__ import annotations

import sqlite3
import threading
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tracer.model import Trace
from tracer.sinks.store.encoding import decode
from tracer.sinks.store.errors import AmbiguousTraceId, StoreError
from tracer.sinks.store.schema import (
    BUDGET_COLUMNS,
    SCHEMA_VERSION,
    SUMMARY_COLUMNS,
    SUMMARY_COLUMNS_V1,
    is_locked,
)
from tracer.sinks.store.stats import BudgetStats, from_rows
from tracer.sinks.store.summary import TraceSummary, from_row

#: A trace id prefix must be this long to be looked up (shorter ones match too much).
MIN_PREFIX = 6
_HEX = frozenset("0123456789abcdef")

#: Stands for the summary columns in a query: which ones depends on the file's version.
_COLUMNS = "<summary columns>"

# ``StoreReader.list`` shadows the builtin in the class body: its signatures use these.
_Fetched = list[tuple[Any, ...]]
_Summaries = list[TraceSummary]


class StoreReader:
    """The read-only queries of :class:`~tracer.sinks.store.TraceStore` over ``path``.

    One read-only connection, opened on first use and shared under a lock (the
    endpoint reads from the server's threads).
    """

    path: Path
    busy_timeout: float

    def _reset_reader(self) -> None:
        """No connection yet (at creation, and in a forked child)."""
        self._read_lock = threading.Lock()
        self._reader: sqlite3.Connection | None = None
        self._columns = SUMMARY_COLUMNS  # SUMMARY_COLUMNS_V1 on a version-1 file
        self._has_budget = True

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
        sql = f"SELECT {_COLUMNS} FROM traces {clause}ORDER BY started_ns DESC, rowid DESC LIMIT ?"
        return [from_row(r) for r in self._fetch(sql, (*params, limit))]

    def since(self, started_ns_exclusive: int, limit: int = 100) -> _Summaries:
        """Traces that started after ``started_ns_exclusive``, oldest first."""
        sql = (
            f"SELECT {_COLUMNS} FROM traces WHERE started_ns > ? ORDER BY started_ns, rowid LIMIT ?"
        )
        return [from_row(r) for r in self._fetch(sql, (started_ns_exclusive, limit))]

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
            f"SELECT rowid, {_COLUMNS} FROM traces WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (cursor, limit),
        )
        if not rows:
            return [], cursor
        return [from_row(r[1:]) for r in rows], int(rows[-1][0])

    def count(self) -> int:
        rows = self._fetch("SELECT count(*) FROM traces", ())
        return int(rows[0][0]) if rows else 0

    def budget_stats(self, seconds: float = 60.0) -> BudgetStats | None:
        """What the budget was offered and kept in the last ``seconds`` of recorded traffic.

        The period ends with the newest counted window (not now: a server that
        stopped an hour ago still shows its last minute); ``None`` when
        nothing was counted (an empty store, or one written before budgets).
        """
        rows = self._fetch(
            f"SELECT {BUDGET_COLUMNS} FROM budget_windows WHERE start_ns + window_ns >"
            " (SELECT max(start_ns + window_ns) FROM budget_windows) - ? ORDER BY start_ns",
            (int(seconds * 1e9),),
            budget=True,
        )
        return from_rows(rows)

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
            return self._held(trace_id)
        stored_id, document = found[0]
        return self._decode(str(stored_id), document)

    def _held(self, trace_id: str) -> Trace | None:
        """A trace this process has in memory but did not persist (the writer side knows)."""
        return None

    def _decode(self, trace_id: str, document: object) -> Trace:
        try:
            if not isinstance(document, bytes):
                raise TypeError(f"document is {type(document).__name__}, not bytes")
            return decode(document)
        except (zlib.error, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"trace {trace_id} in {self.path} is unreadable ({type(exc).__name__}: {exc})"
            ) from exc

    def _fetch(self, sql: str, params: Sequence[object], *, budget: bool = False) -> _Fetched:
        """Run a read query; every failure becomes a one-line :class:`StoreError`."""
        with self._read_lock:
            try:
                conn = self._open_reader()
                if conn is None or (budget and not self._has_budget):
                    return []
                sql = sql.replace(_COLUMNS, self._columns)
                return conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                self._close_reader_locked()
                raise StoreError(self._explain(exc)) from exc

    def _open_reader(self) -> sqlite3.Connection | None:
        """The read-only connection, opened on first use; ``None`` for a file not set up yet."""
        if self._reader is not None:
            return self._reader
        if self.path.is_symlink():
            raise StoreError(
                f"refusing to read the trace store {self.path}: it is a symbolic link "
                "(give the real file's path)"
            )
        if not self.path.is_file():
            what = "is not a file" if self.path.exists() else "does not exist"
            raise StoreError(f"no trace store at {self.path} (the path {what})")
        # mode=rw never creates the file, and as the last connection to close it
        # can fold the -wal file back in (SQLite opens a read-only file read-only);
        # query_only keeps it a reader.
        # (only the directory is resolved: the file's name is checked above)
        uri = f"{(self.path.parent.resolve() / self.path.name).as_uri()}?mode=rw"
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
        if "traces" not in tables:
            return False
        columns = {row[1] for row in conn.execute("PRAGMA table_info(traces)")}
        # a version-1 file a writer has not migrated yet: no reasons, no budget counts
        self._columns = SUMMARY_COLUMNS if "kept_because" in columns else SUMMARY_COLUMNS_V1
        self._has_budget = "budget_windows" in tables
        return True

    def _explain(self, error: sqlite3.Error) -> str:
        message = str(error)
        if "not a database" in message or "malformed" in message:
            return f"{self.path} is not a trace-request store or is corrupt ({message})"
        if is_locked(error):
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
