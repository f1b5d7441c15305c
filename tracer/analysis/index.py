"""One index over a finished trace, built once and read by every renderer and analysis.

Children, tree order, depth, the middleware layers, the response's origin and
own time used to be recomputed by each consumer, and the copies disagreed
(the terminal's "own time by step" and the JSON's ``time_by_step_ns`` differed
for the same trace). :func:`analyse` builds them once per trace; everything a
user sees for one trace is derived from the same :class:`TraceIndex`.

Time accounting (design §5, :mod:`tracer.analysis.accounting`): every instant
of the request has one owner, the innermost span running then (a ``send`` or
``receive`` message outranks what is awaiting it). A span's own time is the
instants it owns; a structural span's (root, router, route, solver) and a
hook-named gap's are :class:`Untraced` intervals instead, so the step totals
plus ``untraced_ns`` equal the wall time. Own time counts under the span's
step, with one refinement: a middleware layer's own time after its inner app
was entered (its work on the way back out) is step 8, so step 2 is exactly the
time on the way in; a response an exception handler rendered is step 8 too (the
error path, :mod:`tracer.analysis.error_path`), not response_model shaping.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from tracer.analysis.accounting import Interval as Interval
from tracer.analysis.accounting import Untraced, is_structural, partition
from tracer.analysis.error_path import ErrorPath, find_error_path
from tracer.model import Span, Trace

STEPS = tuple(range(1, 11))

#: Layers FastAPI/Starlette add around the user's middleware: they add no headers of their own.
FRAMEWORK_LAYERS = frozenset(
    {
        "ServerErrorMiddleware",
        "ExceptionTelemetryMiddleware",
        "AppBodyLimitMiddleware",
        "ExceptionMiddleware",
        "AsyncExitStackMiddleware",
    }
)


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
    """The gaps ``children`` (clipped to ``span``) leave in ``span``: its own time."""
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


def clipped(intervals: Iterable[Interval], start: int, end: int) -> int:
    """Total length of ``intervals`` inside ``[start, end)``."""
    return sum(max(0, min(e, end) - max(s, start)) for s, e in intervals)


def is_layer_response(span: Span, parent: Span | None) -> bool:
    """A ``<Layer> response`` span: the way-out part of a middleware layer."""
    return (
        span.phase == "middleware"
        and parent is not None
        and parent.phase == "middleware"
        and (span.step == 8 or span.name == f"{parent.name} response")
    )


def short_layer_name(name: str) -> str:
    """``CORSMiddleware`` → ``CORS``; ``ServerErrorMiddleware`` → ``ServerError``."""
    if name.endswith("Middleware") and len(name) > len("Middleware"):
        return name[: -len("Middleware")]
    return name


@dataclass(frozen=True, slots=True, eq=False)
class TraceIndex:
    """Everything derived from a trace's structure and timing; read-only.

    ``children[None]`` holds the roots (and orphans whose parent is missing);
    ``own_by_step[span_id]`` splits a span's own time by the step it counts
    under (one entry for every span but a middleware layer's way in and out,
    none for a structural span); ``untraced`` lists the gaps in time order.
    """

    trace: Trace
    by_id: Mapping[str, Span]
    children: Mapping[str | None, tuple[Span, ...]]
    ordered: tuple[Span, ...]
    depth: Mapping[str, int]
    own: Mapping[str, tuple[Interval, ...]]
    own_ns: Mapping[str, int]
    own_by_step: Mapping[str, Mapping[int, int]]
    step_ns: Mapping[int, int]
    layers: tuple[Span, ...]
    response_origin: str | None
    response_end: int
    response_ns: int | None
    untraced: tuple[Untraced, ...] = ()
    untraced_ns: int = 0
    #: first span start to last span end: what the step totals plus untraced add up to
    extent_ns: int = 0
    error_path: ErrorPath | None = None

    def step_of(self, span: Span) -> int:
        """The step ``span`` counts under: its own, but 8 for an exception handler's response."""
        path = self.error_path
        if path is not None and path.response is not None and path.response is span:
            return 8
        return span.step

    def untraced_in(self, span: Span) -> list[Untraced]:
        """The gaps that sit directly in ``span``."""
        return [g for g in self.untraced if g.parent_id == span.span_id]

    def is_structural(self, span: Span) -> bool:
        return is_structural(span)

    def kids(self, span: Span | None) -> tuple[Span, ...]:
        """Children of ``span`` in start order (the roots for ``None``)."""
        return self.children.get(None if span is None else span.span_id, ())

    def parent(self, span: Span) -> Span | None:
        return self.by_id.get(span.parent_id or "")

    def ancestors(self, span: Span) -> list[Span]:
        """Parents of ``span``, nearest first (stops at a missing parent)."""
        out: list[Span] = []
        parent = self.parent(span)
        while parent is not None and len(out) < len(self.by_id):
            out.append(parent)
            parent = self.parent(parent)
        return out

    def layer_in_ns(self, layer: Span) -> int:
        """A middleware layer's own time on the way in (step 2)."""
        return self.own_by_step.get(layer.span_id, {}).get(2, 0)

    def own_before(self, span: Span, end: int) -> int:
        """``span``'s own time before ``end`` (e.g. before the response was complete)."""
        return clipped(self.own.get(span.span_id, ()), span.start_ns, end)

    def user_layers(self, layers: Iterable[Span] | None = None) -> list[Span]:
        """The layers the app added (not FastAPI's or Starlette's own)."""
        chosen = self.layers if layers is None else layers
        return [s for s in chosen if not is_framework_layer(s)]


def is_framework_layer(span: Span) -> bool:
    """FastAPI's or Starlette's own layer, by span name or ``middleware.class``."""
    cls = str(span.attributes.get("middleware.class", span.name))
    return span.name in FRAMEWORK_LAYERS or cls in FRAMEWORK_LAYERS


def build_index(trace: Trace) -> TraceIndex:
    """Build the index from scratch (prefer :func:`analyse`, which caches it)."""
    by_id = {s.span_id: s for s in trace.spans}
    kids: dict[str | None, list[Span]] = {}
    for span in trace.spans:
        parent = span.parent_id if span.parent_id in by_id else None
        kids.setdefault(parent, []).append(span)
    for spans in kids.values():
        spans.sort(key=lambda s: (s.start_ns, -s.end_ns))
    ordered: list[Span] = []
    depth: dict[str, int] = {}
    stack = [(s, 0) for s in reversed(kids.get(None, []))]
    while stack:
        span, d = stack.pop()
        if span.span_id in depth:  # a cycle in parent ids: draw each span once
            continue
        ordered.append(span)
        depth[span.span_id] = d
        stack.extend((c, d + 1) for c in reversed(kids.get(span.span_id, [])))
    timeline = partition(trace.spans, depth)
    own = {s.span_id: list(timeline.own.get(s.span_id, ())) for s in trace.spans}
    own_by_step = {
        s.span_id: _split_by_step(s, own[s.span_id], kids, by_id)
        for s in trace.spans
        if not is_structural(s)
    }
    error_path = find_error_path(trace)
    if error_path is not None and error_path.response is not None:
        built = error_path.response.span_id
        own_by_step[built] = {8: sum(own_by_step.get(built, {}).values())}
    step_ns = dict.fromkeys(STEPS, 0)
    for parts in own_by_step.values():
        for step, ns in parts.items():
            step_ns[step] = step_ns.get(step, 0) + ns
    root = next((s for s in trace.spans if s.parent_id is None), None)
    origin = None if root is None else root.attributes.get("trace_request.response_origin")
    end = trace.response_end_ns
    response_end = end if end is not None else (root.end_ns if root is not None else 0)
    return TraceIndex(
        trace=trace,
        by_id=MappingProxyType(by_id),
        children=MappingProxyType({k: tuple(v) for k, v in kids.items()}),
        ordered=tuple(ordered),
        depth=MappingProxyType(depth),
        own=MappingProxyType({k: tuple(v) for k, v in own.items()}),
        own_ns=MappingProxyType({k: sum(e - b for b, e in v) for k, v in own.items()}),
        own_by_step=MappingProxyType({k: MappingProxyType(v) for k, v in own_by_step.items()}),
        step_ns=MappingProxyType(dict(sorted(step_ns.items()))),
        layers=tuple(_layers(trace, by_id, depth)),
        response_origin=None if origin is None else str(origin),
        response_end=response_end,
        response_ns=None if end is None or root is None else max(0, end - trace.start_ns),
        untraced=timeline.untraced,
        untraced_ns=sum(g.duration_ns for g in timeline.untraced),
        extent_ns=max(0, trace.end_ns - trace.start_ns),
        error_path=error_path,
    )


def _split_by_step(
    span: Span,
    own: list[Interval],
    kids: Mapping[str | None, list[Span]],
    by_id: Mapping[str, Span],
) -> dict[int, int]:
    """Own time by step: a layer's own time after its inner app was entered is step 8."""
    total = sum(e - b for b, e in own)
    below = kids.get(span.span_id, [])
    if span.phase != "middleware" or span.step != 2 or not below:
        return {span.step: total}
    if is_layer_response(span, by_id.get(span.parent_id or "")):
        return {span.step: total}
    way_in = clipped(own, span.start_ns, below[0].start_ns)
    return {2: way_in, 8: total - way_in} if total > way_in else {2: way_in}


def _layers(trace: Trace, by_id: Mapping[str, Span], depth: Mapping[str, int]) -> list[Span]:
    """The middleware layer spans (not their response parts, nor the spans that name a
    layer's own work such as its ``receive``), outermost first."""
    layers = [
        s
        for s in trace.spans
        if s.phase == "middleware"
        and not is_layer_response(s, by_id.get(s.parent_id or ""))
        and "gap.cause" not in s.attributes
    ]

    def order(span: Span) -> tuple[int, int]:
        d = span.attributes.get("middleware.depth")
        return (d if isinstance(d, int) else depth.get(span.span_id, 0), span.start_ns)

    return sorted(layers, key=order)


_CACHE: OrderedDict[int, tuple[Trace, tuple[object, ...], TraceIndex]] = OrderedDict()
_CACHE_SIZE = 16
_LOCK = threading.Lock()


def _fingerprint(trace: Trace) -> tuple[object, ...]:
    """What the index depends on; a trace edited after indexing gets a new index."""
    return (
        trace.response_end_ns,
        trace.root.attributes.get("trace_request.response_origin") if trace.spans else None,
        *(
            (id(s), s.span_id, s.parent_id, s.start_ns, s.end_ns, s.step, s.phase, s.name)
            for s in trace.spans
        ),
    )


def analyse(trace: Trace) -> TraceIndex:
    """The index of ``trace``, built on first use and shared by every later reader.

    ``Trace`` is a mutable, unhashable dataclass, so the cache is keyed by
    identity, keeps the few most recent traces alive (an id is never reused
    while cached) and checks a fingerprint so an edited trace is re-indexed.
    """
    key = id(trace)
    print_ = _fingerprint(trace)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] is trace and hit[1] == print_:
            _CACHE.move_to_end(key)
            return hit[2]
    index = build_index(trace)
    with _LOCK:
        _CACHE[key] = (trace, print_, index)
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return index
