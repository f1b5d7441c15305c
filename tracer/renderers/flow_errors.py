"""The error path drawn as rows: raise → who caught it → the response it built.

A 4xx is not "returned" by FastAPI: it is raised and turned into a response by
an exception handler, and a lesson has to show that hand-off. The figures come
from :attr:`TraceIndex.error_path`; this module only places and words the rows.
"""

from __future__ import annotations

from tracer.analysis.error_path import ErrorPath
from tracer.analysis.index import TraceIndex
from tracer.analysis.processors import LaneMap
from tracer.model import Span
from tracer.renderers import labels
from tracer.renderers.flow_rows import Row

#: the step an exception handler's response counts under (the way out), not 7
ERROR_STEP = 8


def add_error_path(rows: list[Row], index: TraceIndex, lane_map: LaneMap) -> list[Row]:
    """``rows`` with the raise (when no event drew it), the catch and the built response."""
    path = index.error_path
    if path is None or path.catcher_span is None:
        return rows
    out = list(rows)
    if not path.raise_drawn:
        lane = lane_map.lane_of.get(_raiser(path, index).span_id, 1)
        text = f"raise {path.exception}: {path.message}"
        _insert(out, Row(path.raised_ns, "event", lane, lane, text=text, error=True), after=True)
    catch_lane = lane_map.lane_of.get(path.catcher_span.span_id, 1)
    caught = Row(_caught_ns(path), "event", catch_lane, catch_lane, text=_caught_text(path, index))
    caught.step = ERROR_STEP
    _insert(out, caught, after=False)
    for row in out:
        if path.response is not None and row.span_id == path.response.span_id:
            row.text, row.step = _response_text(path), ERROR_STEP
            row.result = ""
    return out


def _raiser(path: ErrorPath, index: TraceIndex) -> Span:
    """Where a validation error is raised: in the route, once the solver has returned."""
    solver = index.by_id.get(path.raised_in.parent_id or "")
    if solver is not None and solver.phase == "dependency" and solver.end_ns == path.raised_ns:
        return index.by_id.get(solver.parent_id or "", solver)
    return path.raised_in


def _caught_ns(path: ErrorPath) -> int:
    """When the exception handler was called (recorded), else when the response starts
    being built: the catch itself is not timed."""
    if path.handler_span is not None:
        return path.handler_span.start_ns
    return path.response.start_ns if path.response is not None else path.raised_ns


def _caught_text(path: ErrorPath, index: TraceIndex) -> str:
    if path.catcher == "ServerErrorMiddleware":
        mine = [s.name for s in index.user_layers()]
        outside = ", outside your layers" if mine else ""
        return f"caught by ServerErrorMiddleware{outside}: unhandled {path.exception}"
    if path.handler_span is not None:  # the next row is the call of the handler, by name
        return f"caught by {path.catcher}"
    return f"caught by {path.catcher} → {path.handler}"


def _response_text(path: ErrorPath) -> str:
    size = f" · {path.body_bytes} B" if path.body_bytes is not None else ""
    response = path.response
    if response is not None and response.phase == "serialization":
        kind = response.name.removeprefix("render ")
        return f"{kind} {path.status}{size}"
    return f"builds {labels.status_text(path.status)}{size}"


def _insert(rows: list[Row], row: Row, *, after: bool) -> None:
    """Insert by time: after the rows at the same instant, or before them."""
    at = next(
        (
            i
            for i, r in enumerate(rows)
            if (r.time_ns > row.time_ns if after else r.time_ns >= row.time_ns)
        ),
        len(rows),
    )
    row.order = rows[at - 1].order if at else 0
    rows.insert(at, row)


__all__ = ["ERROR_STEP", "add_error_path"]
