"""``TraceSummary``: the columns stored next to each document, so listing never decodes traces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tracer.model import Trace


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """One row of the store: enough to list and filter traces without decoding them.

    ``duration_ns`` is request start to response complete (background work
    after the response does not count), or the whole trace when no response
    was sent. ``error`` means the request failed: a 5xx, no response at all,
    or a root span marked as an error. ``kept_because`` says why the budget
    persisted it (``"triggered"``, ``"error"``, ``"slow"``, ``"all"`` — under
    the budget — or ``"sample"``; see :mod:`tracer.sinks.store.budget`);
    ``None`` for rows stored before the budget existed.
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
    kept_because: str | None = None


def summarize(trace: Trace, kept_because: str | None = None) -> TraceSummary:
    """The columns stored next to the document, taken from the request and the root span."""
    root = next((s for s in trace.spans if s.parent_id is None), None)
    if trace.meta.get("kind") == "lifespan":  # listed as ``LIFESPAN startup``: no request
        return TraceSummary(
            trace_id=trace.trace_id,
            started_ns=trace.start_ns,
            method="LIFESPAN",
            path=str(trace.meta.get("lifespan") or ""),
            route=None,
            status=None,
            duration_ns=trace.end_ns - trace.start_ns,
            span_count=len(trace.spans),
            error=root is not None and root.status == "error",
            kept_because=kept_because,
        )
    attributes = root.attributes if root is not None else {}
    status = trace.status_code
    route = trace.request.get("route") or attributes.get("http.route")
    # request start to response complete, as ``tracer.analysis`` computes it (not imported:
    # building its index would cost the writer more than the rest of the row)
    end = trace.response_end_ns
    response = None if end is None or root is None else max(0, end - trace.start_ns)
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
        kept_because=kept_because,
    )


def from_row(row: Sequence[Any]) -> TraceSummary:
    """A summary from the ``SUMMARY_COLUMNS`` of a row, tolerating NULLs a foreign writer left."""
    trace_id, started, method, path, route, status, duration, spans, error, kept = row
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
        kept_because=None if kept is None else str(kept),
    )
