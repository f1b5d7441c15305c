"""The local trace store: the last N traces in one SQLite file, written off the request path.

``TraceStore`` is a sink (``tracer.instrument(app, store=True)`` opens one)
and the reader behind ``trace-request list / show / tail``. The two sides
have opposite needs, so they live apart: :mod:`.writer` (a bounded queue and
one background thread; it never blocks or raises into a request) and
:mod:`.reader` (queries that never create or write the file and fail with a
one-line :class:`StoreError`). :mod:`.budget` chooses which traces are
persisted (a fixed budget per second, errors and the slowest first) and
:mod:`.encoding` turns them into rows. :mod:`.files` creates the file and its
directory privately and refuses a path someone else could have prepared.
"""

from __future__ import annotations

from tracer.sinks.store.budget import DEFAULT_PER_SECOND as DEFAULT_BUDGET
from tracer.sinks.store.budget import REASONS
from tracer.sinks.store.errors import AmbiguousTraceId, StoreError
from tracer.sinks.store.paths import ENV_VAR, default_path
from tracer.sinks.store.reader import MIN_PREFIX
from tracer.sinks.store.schema import SCHEMA_VERSION
from tracer.sinks.store.stats import BudgetStats
from tracer.sinks.store.summary import TraceSummary, summarize
from tracer.sinks.store.trace_store import DEFAULT_MAX_TRACES, TraceStore

__all__ = [
    "DEFAULT_BUDGET",
    "DEFAULT_MAX_TRACES",
    "ENV_VAR",
    "MIN_PREFIX",
    "REASONS",
    "SCHEMA_VERSION",
    "AmbiguousTraceId",
    "BudgetStats",
    "StoreError",
    "TraceStore",
    "TraceSummary",
    "default_path",
    "summarize",
]
