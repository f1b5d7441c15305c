"""Where time went wrong: a blocked event loop, waits for a connection or a thread,
one span's own code dominating the request. Thresholds come from :class:`Thresholds`."""

from __future__ import annotations

from typing import Any

from tracer.analysis.diagnostics.finding import Finding, Thresholds
from tracer.analysis.index import TraceIndex
from tracer.analysis.readers import attr_int, attr_str, fmt_ns, layer_of
from tracer.model import Span, Trace


def _hold_owner(ix: TraceIndex, solve: Span, at_ns: int) -> Span:
    """The innermost async dependency (or validation) running at ``at_ns``, else ``solve``."""
    inside = [
        s
        for s in ix.trace.spans
        if s.phase in ("dependency", "validation")
        and s.start_ns <= at_ns < s.end_ns
        and attr_str(s, "dependency.kind") not in ("sync", "generator", "cached")
        and solve in ix.ancestors(s)
    ]
    return max(inside, key=lambda s: (s.start_ns, -s.end_ns), default=solve)


def _gc_pause_within(trace: Trace, start_ns: int, length_ns: int) -> int:
    """Total recorded garbage-collection pause inside ``[start, start + length]``."""
    total = 0
    for span in trace.spans:
        for event in span.events:
            if event.name == "gc" and start_ns <= event.time_ns <= start_ns + length_ns:
                total += _int_attr(event.attributes, "gc.pause_ns")
    return total


def _int_attr(attributes: dict[str, Any], key: str) -> int:
    value = attributes.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _gc_pause_finding(owner: Span, hold: int, gc_ns: int, at: int) -> Finding:
    """A loop hold that was mostly the garbage collector, not the code that was running."""
    return Finding(
        code="gc_pause",
        severity="info",
        title=f"garbage collection paused the event loop for {fmt_ns(gc_ns)}",
        detail=(
            f"{owner.name} was running when the interpreter stopped for {fmt_ns(gc_ns)} of "
            f"garbage collection (+{fmt_ns(at)}; the loop was held {fmt_ns(hold)} in all). "
            "That is not the code's own work: many long-lived objects make full collections "
            "slow (gc.freeze() after start-up helps)."
        ),
        layer="interpreter (garbage collector)",
        span_id=owner.span_id,
        evidence={"hold_ns": hold, "gc_pause_ns": gc_ns, "at_ns": at, "running": owner.name},
    )


def event_loop_blocked(ix: TraceIndex, limits: Thresholds) -> list[Finding]:
    """Async code that ran too long without awaiting: every other request on the worker waited."""
    trace = ix.trace
    out = []
    for span in trace.spans:
        hold = attr_int(span, "loop.max_hold_ns")
        if hold is None or hold < limits.loop_block_ns or attr_str(span, "handler.kind") == "sync":
            continue
        offset = attr_int(span, "loop.max_hold_offset_ns") or 0
        owner = span
        if span.name == "solve_dependencies":
            owner = _hold_owner(ix, span, span.start_ns + offset)
        at = span.start_ns + offset - trace.root.start_ns
        gc_ns = _gc_pause_within(trace, span.start_ns + offset, hold)
        if gc_ns * 2 >= hold:
            out.append(_gc_pause_finding(owner, hold, gc_ns, at))
            continue
        kind = "async def " if owner.phase in ("handler", "dependency") else ""
        out.append(
            Finding(
                code="event_loop_blocked",
                severity="warning",
                title=f"{owner.name} held the event loop for {fmt_ns(hold)}",
                detail=(
                    f"{kind}{owner.name} ran {fmt_ns(hold)} without awaiting (from "
                    f"+{fmt_ns(at)}); meanwhile no other request on this worker made progress. "
                    "Await the slow call, or use a plain def so it runs in the threadpool."
                ),
                layer="event loop",
                span_id=owner.span_id,
                evidence={
                    "hold_ns": hold,
                    "offset_ns": offset,
                    "measured_on": span.name,
                    "blocked_by": owner.name,
                    "at_ns": at,
                },
            )
        )
    return out


def waiting(ix: TraceIndex, limits: Thresholds) -> list[Finding]:
    """Time spent queueing for a database connection or a worker thread, not working."""
    trace = ix.trace
    pool = [(s, s.duration_ns) for s in trace.spans if s.name == "pool checkout"]
    threads = [(s, attr_int(s, "threadpool.wait_ns") or 0) for s in trace.spans]
    out = []
    slow_pool = [(s, w) for s, w in pool if w >= limits.pool_wait_ns]
    if slow_pool:
        out.append(_wait_finding("connection pool", slow_pool, ix))
    slow_threads = [(s, w) for s, w in threads if w >= limits.threadpool_wait_ns]
    if slow_threads:
        out.append(_wait_finding("threadpool", slow_threads, ix))
    return out


def _wait_finding(resource: str, waits: list[tuple[Span, int]], ix: TraceIndex) -> Finding:
    worst, wait = max(waits, key=lambda sw: sw[1])
    total = sum(w for _, w in waits)
    if resource == "threadpool":
        who = worst.name
        what = "a worker thread to start it (all were busy, or the CPU was)"
        fix = "Fewer blocking def calls at once, or async I/O, frees threads."
    else:
        parent = ix.by_id.get(worst.parent_id or "")
        who = parent.name if parent is not None else "a query"
        what = "a database connection (waiting for a free one, or opening a new one)"
        fix = "Release connections sooner or size the pool to the concurrency."
    return Finding(
        code="waiting",
        severity="warning",
        title=f"{who} waited {fmt_ns(wait)} for the {resource}",
        detail=f"{who} spent {fmt_ns(wait)} waiting for {what}, not working. {fix}",
        layer=resource,
        span_id=worst.span_id,
        evidence={
            "resource": resource,
            "wait_ns": wait,
            "total_wait_ns": total,
            "count": len(waits),
            "waiter": who,
        },
    )


_DOMINANT_HINTS = {
    "serialization": "response_model validation runs for every returned object",
    "handler": "the endpoint's own code, not its queries or dependencies",
    "dependency": "the dependency's own code, before the handler could start",
    "validation": "checking the request's types and shape",
    "middleware": "a middleware layer's own code, on every request",
    "db": "the database itself",
    "routing": "FastAPI building or matching the route",
}


def dominant_step(ix: TraceIndex, limits: Thresholds) -> list[Finding]:
    """One span's own code took most of the request: that is where to optimise."""
    trace = ix.trace
    end = ix.response_end
    total = max(1, end - trace.root.start_ns)
    candidates = [
        (s, ix.own_before(s, end))
        for s in trace.spans
        if s.parent_id is not None
        and s.phase not in ("background", "send", "asgi")
        and s.name not in ("pool checkout", "threadpool wait")
    ]
    if not candidates:
        return []
    span, own = max(candidates, key=lambda so: so[1])
    share = own / total
    if own < limits.dominant_step_ns or share < limits.dominant_share:
        return []
    hint = _DOMINANT_HINTS.get(span.phase, "")
    return [
        Finding(
            code="dominant_step",
            severity="warning",
            title=f"{span.name} took {share:.0%} of the request ({fmt_ns(own)})",
            detail=(
                f"{fmt_ns(own)} of the {fmt_ns(total)} request went to {span.name} itself "
                f"(step {span.step}, {span.phase}; children subtracted): {hint}."
            ),
            layer=layer_of(span),
            span_id=span.span_id,
            evidence={
                "own_ns": own,
                "request_ns": total,
                "share": round(share, 3),
                "step": span.step,
                "span": span.name,
            },
        )
    ]
