"""Pure functions over a :class:`~tracer.model.Trace`: errors and the sequence diagram's lanes.

Structure and time (children, depth, own time, layers) come from the one
:func:`~tracer.analysis.index.analyse` index; nothing here recomputes them.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Literal

from tracer.analysis.index import (
    Interval,
    analyse,
    is_framework_layer,
    is_layer_response,
    merge_intervals,
    short_layer_name,
)
from tracer.model import Span, Trace

LaneKind = Literal[
    "client",
    "server",
    "middleware",
    "routing",
    "dependency",
    "validation",
    "handler",
    "db",
    "outbound",
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
    ("outbound", "External"),
    ("serialization", "Serialize"),
    ("background", "BgTask"),
)
#: Lanes every routed request passes through: a failed request that never
#: touched one of them lists it as "not reached".
CANONICAL_LANES: tuple[LaneKind, ...] = ("routing", "dependency", "handler", "serialization")
#: outbound calls get a lane per host up to this many hosts, else one "External" lane
HOST_LANES = 3


def response_ns(trace: Trace) -> int | None:
    """Request start to response complete, or ``None`` when no response was sent."""
    return analyse(trace).response_ns


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
    return span.status == "error" and span.phase in ("validation", "outbound")


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
    #: a middleware lane's layers: "yours" (the app's), "framework" (FastAPI's or
    #: Starlette's) or "mixed" (folded together at a narrow width)
    owner: Literal["", "yours", "framework", "mixed"] = ""


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


def host_of(span: Span) -> str:
    """The host an outbound call went to (``server.address``)."""
    return str(span.attributes.get("server.address") or "external")


def _short_host(host: str) -> str:
    """``inventory`` for ``inventory.internal`` (lanes are narrow); an address stays whole."""
    return host if host.replace(".", "").isdigit() or ":" in host else host.split(".")[0]


def outbound_hosts(trace: Trace) -> list[str]:
    """Hosts of the request's outbound calls, in the order they were first called."""
    calls = sorted((s for s in trace.spans if s.phase == "outbound"), key=lambda s: s.start_ns)
    return list(dict.fromkeys(host_of(s) for s in calls))


def _pass_through(layer: Span, origin: str | None) -> bool:
    names = {layer.name, str(layer.attributes.get("middleware.class", ""))}
    return origin not in names and exception_of(layer) is None


def failed(trace: Trace) -> bool:
    code = trace.status_code
    return code is None or code >= 400 or (bool(trace.spans) and trace.root.status == "error")


def lanes(trace: Trace, *, fold_middleware: bool = False, fold_by_owner: bool = False) -> LaneMap:
    """Lanes in call-depth order: client, server, each middleware layer, then the phases.

    With ``fold_middleware`` consecutive pass-through layers (neither building
    the response nor raising) share one lane; with ``fold_by_owner`` only those
    of the same owner do (the app's layers never share a lane with FastAPI's).
    """
    index = analyse(trace)
    by_id = index.by_id
    out: list[Lane] = [Lane("client", "client", "client"), Lane("server", "server", "server")]
    lane_of: dict[str, int] = {}
    origin = index.response_origin

    group: list[Span] = []

    def flush() -> None:
        if not group:
            return
        owners = {not is_framework_layer(s) for s in group}
        owner: Literal["yours", "framework", "mixed"] = (
            "mixed" if len(owners) > 1 else "yours" if owners == {True} else "framework"
        )
        name = short_layer_name(group[0].name) if len(group) == 1 else f"mw ×{len(group)}"
        if len(group) > 1 and owner == "framework":
            name = f"FastAPI ×{len(group)}"
        elif len(group) > 1 and owner == "yours":
            name = f"yours ×{len(group)}"
        members = tuple(s.name for s in group)
        out.append(Lane(f"mw:{group[0].span_id}", "middleware", name, members, owner=owner))
        for s in group:
            lane_of[s.span_id] = len(out) - 1
        group.clear()

    for layer in index.layers:
        folds = fold_middleware or fold_by_owner
        if not (folds and _pass_through(layer, origin)):
            flush()
            group.append(layer)
            flush()
        else:
            if (
                fold_by_owner
                and group
                and is_framework_layer(group[0]) != is_framework_layer(layer)
            ):
                flush()
            group.append(layer)
    flush()

    touched = {s.phase for s in trace.spans}
    fail = failed(trace) and trace.meta.get("kind") != "lifespan"  # routes are no part of it
    hosts = outbound_hosts(trace)
    for kind, name in PHASE_LANES:
        if kind == "outbound" and 1 < len(hosts) <= HOST_LANES:
            out.extend(Lane(f"outbound:{host}", kind, _short_host(host)) for host in hosts)
        elif kind in touched:
            out.append(Lane(kind, kind, name))
        elif fail and kind in CANONICAL_LANES:
            out.append(Lane(kind, kind, name, reached=False))
    position = {lane.key: i for i, lane in enumerate(out)}

    for span in trace.spans:
        if span.span_id in lane_of:
            continue
        parent = by_id.get(span.parent_id or "")
        if span.phase in ("asgi", "send", "lifespan"):
            lane_of[span.span_id] = position["server"]
        elif span.phase == "middleware":
            lane_of[span.span_id] = lane_of.get(parent.span_id, 1) if parent else 1
        elif span.phase == "outbound":
            key = f"outbound:{host_of(span)}"
            lane_of[span.span_id] = position[key if key in position else "outbound"]
        else:
            lane_of[span.span_id] = position[span.phase]
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
