"""The request as a list of sequence-diagram rows: who called whom, when, with what.

Shared by the terminal sequence diagram and the Mermaid renderer. Rows are
sorted by timestamp (ties broken by tree order), never by an assumed phase
order: where yield-dependency teardown runs differs between FastAPI versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Any

from tracer.analysis.accounting import DRAWN_GAP_NS
from tracer.analysis.index import analyse, is_layer_response
from tracer.analysis.layers import layer_reports
from tracer.analysis.processors import LaneMap, error_type, exception_of, failed_here, lanes
from tracer.model import Span, Trace
from tracer.renderers import labels
from tracer.renderers.flow_errors import add_error_path
from tracer.renderers.flow_layers import folded_in_text, layer_hop, shared_hop_text, way_in_text
from tracer.renderers.flow_parallel import mark_parallel
from tracer.renderers.flow_rows import Row, RowKind
from tracer.renderers.flow_warnings import skipped_layers
from tracer.renderers.labels import format_duration

#: a gap this many times the median row gap (and over GAP_MIN_NS) gets a "⋮ later" row
GAP_FACTOR = 5
GAP_MIN_NS = 1_000_000


@dataclass(slots=True)
class Flow:
    trace: Trace
    lanes: LaneMap
    rows: list[Row]
    not_reached: list[str]
    warnings: list[str]


def build_flow(trace: Trace, *, fold_middleware: bool = False, fold_by_owner: bool = False) -> Flow:
    lane_map = lanes(trace, fold_middleware=fold_middleware, fold_by_owner=fold_by_owner)
    rows = mark_parallel(trace, _Builder(trace, lane_map).rows())
    rows = add_error_path(rows, analyse(trace), lane_map)
    rows = _merge_hops(rows)
    rows = _merge_returns(rows)
    rows = _insert_gaps(rows)
    not_reached = [lane.name for lane in lane_map.lanes if not lane.reached]
    return Flow(trace, lane_map, rows, not_reached, skipped_layers(trace))


class _Builder:
    def __init__(self, trace: Trace, lane_map: LaneMap) -> None:
        self.trace = trace
        self.lm = lane_map
        self.index = analyse(trace)
        self.kids = self.index.children
        self.by_id = self.index.by_id
        self.out: list[Row] = []
        self.started: dict[str, int] = {}
        self.ended: dict[str, int] = {}
        self.depth = self.index.depth
        self.callers: dict[str, Span | None] = {}
        self.body_sends = sorted(
            (s for s in trace.spans if s.phase == "send" and "body" in s.name),
            key=lambda s: s.start_ns,
        )
        self.reports = {r.layer.span_id: r for r in layer_reports(self.index)}
        origin = self.index.response_origin
        self.origin_ids = {
            s.span_id
            for s in self.index.layers
            if origin in (s.name, s.attributes.get("middleware.class"))
        }

    def lane(self, span: Span | None) -> int:
        return 0 if span is None else self.lm.lane_of[span.span_id]

    def rows(self) -> list[Row]:
        order = 0
        stack: list[tuple[Span, bool]] = [(s, False) for s in reversed(self.kids.get(None, ()))]
        while stack:
            span, done = stack.pop()
            order += 1
            if done:
                self.ended[span.span_id] = order
                self._end(span, order)
                continue
            self.started[span.span_id] = order
            self._start(span, order)
            stack.append((span, True))
            stack.extend((c, False) for c in reversed(self.kids.get(span.span_id, ())))
        self._untraced()
        self.out.sort(key=lambda r: (r.time_ns, r.order))
        return self.out

    def _untraced(self) -> None:
        """A row per gap no hook covered (from ``DRAWN_GAP_NS``), in the lane of its span."""
        for gap in self.index.untraced:
            if gap.duration_ns < DRAWN_GAP_NS or gap.name is not None:
                continue  # a named gap is drawn as the span that named it
            owner = self.by_id.get(gap.parent_id or "")
            lane = self.lane(owner) if owner is not None else 1
            row = Row(gap.start_ns, "untraced", lane, lane, text=gap.label)
            row.dur_ns, row.end_ns = gap.duration_ns, gap.end_ns
            # after its span's own call row, and after the return of a child that ended
            # at the same instant
            parent = gap.parent_id or ""
            ended = [
                self.ended.get(c.span_id, 0)
                for c in self.kids.get(parent, ())
                if c.end_ns <= gap.start_ns
            ]
            self._add(row, max([self.started.get(parent, 0), *ended]))

    def _add(self, row: Row, order: int) -> None:
        row.order = order
        self.out.append(row)

    # -- classification ------------------------------------------------------

    def parent(self, span: Span) -> Span | None:
        return self.by_id.get(span.parent_id or "")

    def caller(self, span: Span) -> Span | None:
        """Who the call comes from: the parent, or, when the parent had already returned
        (a yield dependency torn down later), the innermost span open at that moment."""
        if span.span_id in self.callers:
            return self.callers[span.span_id]
        parent = self.parent(span)
        if parent is None or parent.start_ns <= span.start_ns <= parent.end_ns:
            return parent
        best: Span | None = None
        for other in self.trace.spans:
            if not other.start_ns <= span.start_ns < other.end_ns or self._inside(other, span):
                continue
            if best is None or (self.depth[other.span_id], other.start_ns) > (
                self.depth[best.span_id],
                best.start_ns,
            ):
                best = other
        self.callers[span.span_id] = best or parent
        return best or parent

    def _inside(self, span: Span, ancestor: Span) -> bool:
        node: Span | None = span
        while node is not None:
            if node is ancestor:
                return True
            node = self.parent(node)
        return False

    def _is_leaf(self, span: Span) -> bool:
        return not self.kids.get(span.span_id) and all(e.name == "exception" for e in span.events)

    def _silent(self, span: Span) -> bool:
        """Spans drawn only through their children (and events)."""
        parent = self.caller(span)
        if parent is None or self.lane(span) != self.lane(parent):
            return False
        if span.phase == "middleware":  # a layer folded into its parent's lane
            # the app's own layers sharing a lane each keep their row
            return self.lm.lanes[self.lane(span)].owner != "yours"
        return span.phase == "routing" and bool(self.kids.get(span.span_id))

    def _depth(self, span: Span) -> int:
        if self.caller(span) is not self.parent(span):
            return 0
        depth, parent = 0, self.parent(span)
        lane = self.lane(span)
        while parent is not None and self.lane(parent) == lane:
            parent = self.parent(parent)
            depth += 1
        return max(0, depth - 1)

    # -- rows ----------------------------------------------------------------

    def _start(self, span: Span, order: int) -> None:
        trace, parent = self.trace, self.parent(span)
        lane, plane = self.lane(span), self.lane(self.caller(span))
        leaf = self._is_leaf(span)
        self._events(span, order, folded=leaf)
        if parent is not None and is_layer_response(span, parent):
            self._layer_response(span, parent, order)
            return
        if span.phase == "send":
            self._send(span, order)
            return
        if self._silent(span):
            return
        text = labels.call_label(span, trace)
        this = self.lm.lanes[lane]
        if span.span_id in self.reports:
            text = way_in_text(self.reports[span.span_id])
            if len(this.members) > 1 and this.owner != "yours":
                layers = [r for i, r in self.reports.items() if self.lm.lane_of[i] == lane]
                text = folded_in_text(layers, this)
        base = Row(
            time_ns=span.start_ns,
            kind="call" if lane != plane else "work",
            src=plane,
            dst=lane,
            text=text,
            step=span.step,
            dur_ns=span.duration_ns,
            end_ns=span.end_ns,
            leaf=leaf,
            span_id=span.span_id,
        )
        if (not leaf and lane != plane) or span.span_id in self.reports:
            base.dur_ns = None  # shown on the return row, once the span is over
        if leaf or lane == plane:
            base.result = labels.result_label(span, trace) if leaf else ""
            base.notes = labels.notes(span)
            if leaf and exception_of(span) is not None:  # the error gets a line of its own
                base.notes.insert(0, f"{base.result}")
                base.result = ""
            base.error = leaf and failed_here(span)
            base.depth = self._depth(span) if lane == plane else 0
        self._add(base, order)

    def _end(self, span: Span, order: int) -> None:
        parent = self.parent(span)
        lane, plane = self.lane(span), self.lane(self.caller(span))
        if lane == plane or self._is_leaf(span) or span.phase == "send":
            return
        if parent is not None and is_layer_response(span, parent):
            return
        text = labels.return_label(span, self.trace, list(self.kids.get(span.span_id, ())))
        row = Row(span.end_ns, "return", lane, plane, text=text, end_ns=span.end_ns)
        row.error = error_type(span) is not None
        if span.phase not in ("asgi", "middleware", "routing"):
            row.dur_ns = span.duration_ns
        self._add(row, order)

    def _events(self, span: Span, order: int, *, folded: bool) -> None:
        lane = self.lane(span)
        for event in span.events:
            # drawn inside its span even if recorded a moment after the span closed
            at = min(max(event.time_ns, span.start_ns), span.end_ns)
            if event.name == "exception":
                if folded:
                    continue
                kind, message = exception_of(span) or ("Exception", "")
                text = f"raise {kind}" + (f": {message}" if message else "")
                self._add(Row(at, "event", lane, lane, text=text, error=True), order)
            else:
                text = _event_text(event.name, event.attributes)
                self._add(Row(at, "event", lane, lane, text=text), order)

    def _layer_response(self, span: Span, layer: Span, order: int) -> None:
        lane = self.lane(layer)
        row = Row(span.start_ns, "hop", lane, lane, step=span.step, end_ns=span.end_ns)
        row.dur_ns, row.span_id = span.duration_ns, span.span_id
        if layer.span_id in self.origin_ids:
            code = self.trace.status_code
            row.kind = "work"
            row.text = f"{layer.name} builds {labels.status_text(code)}"
            row.error = code is None or code >= 500
            self._add(row, order)
            return
        inner = [c for c in self.kids.get(layer.span_id, ()) if not is_layer_response(c, layer)]
        if not inner:
            return
        row.src = self.lane(inner[0])
        report = self.reports.get(layer.span_id)
        if report is not None:
            layer_hop(row, report, self.lm.lanes[lane])
        self._add(row, order)

    def _send(self, span: Span, order: int) -> None:
        src = self._responder(span.start_ns)
        text = labels.send_label(span, self.trace)
        bodies = self.body_sends
        if len(bodies) > 1 and span in bodies:
            text = text.replace("body", f"body {bodies.index(span) + 1}/{len(bodies)} ·", 1)
        row = Row(
            span.start_ns,
            "message",
            src,
            0,
            text=text,
            step=span.step,
            dur_ns=span.duration_ns,
            end_ns=span.end_ns,
            error=(self.trace.status_code or 0) >= 500,
            via=list(range(1, src)),
        )
        self._add(row, order)

    def _responder(self, t: int) -> int:
        """The lane a response message leaves from when no traced hop says otherwise."""
        router = self.lm.find("routing")
        if router is not None and self.lm.is_active(router, t):
            return router
        origin = next(iter(self.origin_ids), None)
        if origin is not None:
            return self.lane(self.by_id[origin])
        layers = [i for i, lane in enumerate(self.lm.lanes) if lane.kind == "middleware"]
        return layers[0] if layers else 1


def _event_text(name: str, attributes: dict[str, Any]) -> str:
    """``gc · generation 2 · 35.2ms pause`` for collector pauses, app output as its text,
    ``name · k=v`` otherwise."""
    if name == "gc":
        pause = attributes.get("gc.pause_ns")
        took = f" · {format_duration(pause)} pause" if isinstance(pause, int) else ""
        return f"garbage collection · generation {attributes.get('gc.generation', '?')}{took}"
    if name == "app.output":  # what the app printed: ``stdout · text``
        return f"{attributes.get('stream', 'output')} · {attributes.get('text', '')}"
    if name == "log":  # ``WARNING app.users · text``
        source = f"{attributes.get('level', 'log')} {attributes.get('logger', '')}".strip()
        return f"{source} · {attributes.get('text', '')}"
    detail = ", ".join(f"{k}={v}" for k, v in attributes.items())
    return name + (f" · {detail}" if detail else "")


def _merge_hops(rows: list[Row]) -> list[Row]:
    """Chain a message's hops through the layers into one row; trim the send after it."""
    out: list[Row] = []
    for row in rows:
        prev = out[-1] if out else None
        if (
            row.kind == "hop"
            and prev is not None
            and prev.kind == "hop"
            and prev.dst == row.src
            and not (prev.alone or row.alone)
        ):
            if row.dst not in (prev.src, prev.dst) and prev.dst not in prev.via:
                prev.via.append(prev.dst)
            prev.dst = row.dst
            prev.count += 1
            prev.changes.extend(row.changes)
            prev.end_ns = row.end_ns
            prev.dur_ns = (row.end_ns or row.time_ns) - prev.time_ns
            continue
        if (
            row.kind == "message"
            and prev is not None
            and prev.kind == "hop"
            and row.dst < prev.dst < row.src
        ):
            row.src = prev.dst
            row.via = [v for v in row.via if v < row.src]
        out.append(row)
    for row in out:
        if row.kind == "hop":
            row.via = [v for v in row.via if row.dst < v < row.src]
            if not row.alone:
                row.text = shared_hop_text(row)
    return [r for r in out if not (r.kind == "hop" and r.src == r.dst)]


def _merge_returns(rows: list[Row]) -> list[Row]:
    """Label-alike returns through adjacent lanes become one ``unwind ×N`` row."""
    out: list[Row] = []
    for row in rows:
        prev = out[-1] if out else None
        if (
            row.kind == "return"
            and prev is not None
            and prev.kind == "return"
            and prev.dst == row.src
            and row.dst < row.src
            and _same_outcome(prev.text, row.text)
        ):
            prev.via.append(prev.dst)
            prev.dst = row.dst
            prev.count += 1
            prev.dur_ns = None
            continue
        out.append(row)
    for row in out:
        if row.kind == "return" and not row.text:
            row.text = "return"
    return out


def _same_outcome(a: str, b: str) -> bool:
    if a == b:
        return True
    # "✗ raise X" then "✗ X": the same exception going on up
    return a.startswith("✗ raise ") and b == "✗ " + a.removeprefix("✗ raise ")


def _insert_gaps(rows: list[Row]) -> list[Row]:
    """A "⋮ N later" row where nothing drawn was running for a long while.

    The wait is counted from the end of the work drawn before (a 44 ms hash
    followed at once by the next row is no gap), not from that row's start.
    """
    idle: list[int] = []
    busy_until = rows[0].time_ns if rows else 0
    for row in rows:
        idle.append(row.time_ns - busy_until)
        leaf_work = row.kind in ("work", "untraced") or (row.kind == "call" and row.leaf)
        finished = row.end_ns if leaf_work and row.end_ns else 0
        busy_until = max(busy_until, row.time_ns, finished)
    positive = [g for g in idle if g > 0]
    if not positive:
        return rows
    limit = max(GAP_FACTOR * median(positive), GAP_MIN_NS)
    out: list[Row] = []
    for i, row in enumerate(rows):
        # an untraced row already says what the time went to
        if i and idle[i] > limit and rows[i - 1].kind != "untraced":
            text = f"{format_duration(idle[i])} later"
            out.append(Row(row.time_ns - idle[i] // 2, "gap", 0, 0, text=text))
        out.append(row)
    return out


__all__ = ["Flow", "Row", "RowKind", "build_flow"]
