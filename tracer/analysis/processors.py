"""Pure functions over a :class:`~tracer.model.Trace`: ordering, own time, lanes.

Nothing here renders or mutates: renderers call these and draw the result.
Every function copes with overlapping children (background work, concurrent
dependencies) and with spans whose parent is missing (they are treated as roots).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from tracer.model import Span, Trace

Interval = tuple[int, int]

LaneKind = Literal[
    "client",
    "server",
    "middleware",
    "routing",
    "dependency",
    "validation",
    "handler",
    "db",
    "serialization",
    "background",
]

#: Lanes after the middleware layers, in call-depth order, with their display names.
PHASE_LANES: tuple[tuple[LaneKind, str], ...] = (
    ("routing", "Router"),
    ("dependency", "Deps"),
    ("validation", "Validate"),
    ("handler", "Handler"),
    ("db", "DB"),
    ("serialization", "Serialize"),
    ("background", "BgTask"),
)
#: Lanes every routed request passes through: a failed request that never
#: touched one of them lists it as "not reached".
CANONICAL_LANES: tuple[LaneKind, ...] = ("routing", "dependency", "handler", "serialization")


def children_map(trace: Trace) -> dict[str | None, list[Span]]:
    """Children by parent id, each list in start order; orphans are filed under ``None``."""
    ids = {s.span_id for s in trace.spans}
    out: dict[str | None, list[Span]] = {}
    for span in trace.spans:
        parent = span.parent_id if span.parent_id in ids else None
        out.setdefault(parent, []).append(span)
    for spans in out.values():
        spans.sort(key=lambda s: (s.start_ns, -s.end_ns))
    return out


def sorted_spans(trace: Trace) -> list[Span]:
    """Spans in tree order (depth first, children by start time)."""
    kids = children_map(trace)
    out: list[Span] = []
    stack = list(reversed(kids.get(None, [])))
    while stack:
        span = stack.pop()
        out.append(span)
        stack.extend(reversed(kids.get(span.span_id, [])))
    return out


def depths(trace: Trace) -> dict[str, int]:
    """Nesting depth of each span (roots are 0)."""
    kids = children_map(trace)
    out: dict[str, int] = {}
    stack = [(s, 0) for s in kids.get(None, [])]
    while stack:
        span, depth = stack.pop()
        out[span.span_id] = depth
        stack.extend((c, depth + 1) for c in kids.get(span.span_id, []))
    return out


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Union of half-open intervals, sorted; empty ones are dropped."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def own_intervals(span: Span, children: Sequence[Span]) -> list[Interval]:
    """The parts of ``span`` not covered by any child (children clipped to the span)."""
    covered = merge_intervals(
        (max(c.start_ns, span.start_ns), min(c.end_ns, span.end_ns)) for c in children
    )
    out: list[Interval] = []
    cursor = span.start_ns
    for start, end in covered:
        if start > cursor:
            out.append((cursor, start))
        cursor = max(cursor, end)
    if span.end_ns > cursor:
        out.append((cursor, span.end_ns))
    return out


def self_time_ns(trace: Trace) -> dict[str, int]:
    """Own time of every span: its duration minus the union of its (clipped) children."""
    kids = children_map(trace)
    return {
        s.span_id: sum(e - b for b, e in own_intervals(s, kids.get(s.span_id, [])))
        for s in trace.spans
    }


def step_totals(trace: Trace) -> dict[int, int]:
    """Own time summed by lifecycle step, in step order."""
    own = self_time_ns(trace)
    totals: dict[int, int] = {}
    for span in trace.spans:
        totals[span.step] = totals.get(span.step, 0) + own[span.span_id]
    return dict(sorted(totals.items()))


def response_ns(trace: Trace) -> int | None:
    """Request start to response complete, or ``None`` when no response was sent."""
    if trace.response_end_ns is None or not trace.spans:
        return None
    return max(0, trace.response_end_ns - trace.start_ns)


def exception_of(span: Span) -> tuple[str, str] | None:
    """``(type, message)`` of the exception raised in ``span`` itself, if any."""
    for event in span.events:
        if event.name == "exception":
            attrs = event.attributes
            return str(attrs.get("exception.type", "Exception")), str(
                attrs.get("exception.message", "")
            )
    return None


def failed_here(span: Span) -> bool:
    """The span itself failed (raised, or rejected its input), not just passed an error on."""
    if exception_of(span) is not None:
        return True
    return span.status == "error" and span.phase == "validation"


def error_type(span: Span) -> str | None:
    """The exception type raised in or propagated through ``span``, if it failed."""
    if span.status != "error":
        return None
    raised = exception_of(span)
    if raised is not None:
        return raised[0]
    return str(span.attributes.get("error.type", "error"))


# ---------------------------------------------------------------------------
# lanes


@dataclass(frozen=True, slots=True)
class Lane:
    """One lifeline of the sequence diagram."""

    key: str
    kind: LaneKind
    name: str
    members: tuple[str, ...] = ()
    reached: bool = True


@dataclass(slots=True)
class LaneMap:
    """The lanes of a trace and which lane each span is drawn in."""

    lanes: list[Lane]
    lane_of: dict[str, int]
    #: per lane: sorted, merged intervals when one of its spans is open
    active: list[list[Interval]] = field(default_factory=list)

    def index(self, key: str) -> int:
        for i, lane in enumerate(self.lanes):
            if lane.key == key:
                return i
        raise KeyError(key)

    def find(self, kind: LaneKind) -> int | None:
        for i, lane in enumerate(self.lanes):
            if lane.kind == kind and lane.reached:
                return i
        return None

    def is_active(self, lane: int, t: int) -> bool:
        spans = self.active[lane]
        i = bisect_right(spans, (t, 1 << 62)) - 1
        return i >= 0 and spans[i][0] <= t < spans[i][1]


def is_layer_response(span: Span, parent: Span | None) -> bool:
    """A ``<Layer> response`` span: the way-out part of a middleware layer."""
    return (
        span.phase == "middleware"
        and parent is not None
        and parent.phase == "middleware"
        and (span.step == 8 or span.name == f"{parent.name} response")
    )


def middleware_layers(trace: Trace) -> list[Span]:
    """The middleware layer spans (not their response parts), outermost first."""
    by_id = trace.by_id()
    depth = depths(trace)
    layers = [
        s
        for s in trace.spans
        if s.phase == "middleware" and not is_layer_response(s, by_id.get(s.parent_id or ""))
    ]

    def order(span: Span) -> tuple[int, int]:
        d = span.attributes.get("middleware.depth")
        return (int(d) if isinstance(d, int) else depth.get(span.span_id, 0), span.start_ns)

    return sorted(layers, key=order)


def short_layer_name(name: str) -> str:
    """``CORSMiddleware`` → ``CORS``; ``ServerErrorMiddleware`` → ``ServerError``."""
    if name.endswith("Middleware") and len(name) > len("Middleware"):
        return name[: -len("Middleware")]
    return name


def response_origin(trace: Trace) -> str | None:
    if not trace.spans:
        return None
    origin = trace.root.attributes.get("trace_request.response_origin")
    return None if origin is None else str(origin)


def _pass_through(layer: Span, origin: str | None) -> bool:
    names = {layer.name, str(layer.attributes.get("middleware.class", ""))}
    return origin not in names and exception_of(layer) is None


def failed(trace: Trace) -> bool:
    code = trace.status_code
    return code is None or code >= 400 or (bool(trace.spans) and trace.root.status == "error")


def lanes(trace: Trace, *, fold_middleware: bool = False) -> LaneMap:
    """Lanes in call-depth order: client, server, each middleware layer, then the phases.

    With ``fold_middleware`` consecutive pass-through layers (neither building
    the response nor raising) share one lane.
    """
    by_id = trace.by_id()
    out: list[Lane] = [Lane("client", "client", "client"), Lane("server", "server", "server")]
    lane_of: dict[str, int] = {}
    origin = response_origin(trace)

    group: list[Span] = []

    def flush() -> None:
        if not group:
            return
        name = short_layer_name(group[0].name) if len(group) == 1 else f"mw ×{len(group)}"
        out.append(Lane(f"mw:{group[0].span_id}", "middleware", name, tuple(s.name for s in group)))
        for s in group:
            lane_of[s.span_id] = len(out) - 1
        group.clear()

    for layer in middleware_layers(trace):
        if not (fold_middleware and _pass_through(layer, origin)):
            flush()
            group.append(layer)
            flush()
        else:
            group.append(layer)
    flush()

    touched = {s.phase for s in trace.spans}
    fail = failed(trace)
    for kind, name in PHASE_LANES:
        if kind in touched:
            out.append(Lane(kind, kind, name))
        elif fail and kind in CANONICAL_LANES:
            out.append(Lane(kind, kind, name, reached=False))
    index = {lane.key: i for i, lane in enumerate(out)}

    for span in trace.spans:
        if span.span_id in lane_of:
            continue
        parent = by_id.get(span.parent_id or "")
        if span.phase in ("asgi", "send"):
            lane_of[span.span_id] = index["server"]
        elif span.phase == "middleware":
            lane_of[span.span_id] = lane_of.get(parent.span_id, 1) if parent else 1
        else:
            lane_of[span.span_id] = index[span.phase]
    # middleware response spans whose layer came later in the list above
    for span in trace.spans:
        parent = by_id.get(span.parent_id or "")
        if parent is not None and is_layer_response(span, parent):
            lane_of[span.span_id] = lane_of[parent.span_id]

    active: list[list[Interval]] = [[] for _ in out]
    for span in trace.spans:
        active[lane_of[span.span_id]].append((span.start_ns, span.end_ns))
    if trace.spans:
        root = trace.root
        end = trace.response_end_ns if trace.response_end_ns is not None else root.end_ns
        active[0].append((root.start_ns, end))
    return LaneMap(out, lane_of, [merge_intervals(a) for a in active])
