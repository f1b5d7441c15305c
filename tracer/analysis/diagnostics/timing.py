"""Where time went wrong: a blocked event loop, waits for a connection or a thread,
one span's own code dominating the request. Thresholds come from :class:`Thresholds`."""

from __future__ import annotations

from typing import Any

from tracer.analysis.accounting import Untraced
from tracer.analysis.diagnostics.blame import blamed, is_synthetic, runs_in_thread
from tracer.analysis.diagnostics.finding import Finding, Thresholds
from tracer.analysis.index import TraceIndex
from tracer.analysis.readers import attr_int, attr_str, fmt_ns, layer_of
from tracer.model import Span, Trace


def _hold_owner(ix: TraceIndex, solve: Span, at_ns: int) -> Span:
    """The innermost async dependency (or validation) running at ``at_ns``, else ``solve``.

    Work in a worker thread (a ``def`` or sync generator dependency, the
    tracer's ``threadpool __enter__``) cannot hold the loop, so it is never
    the owner: the async code running around it is.
    """
    inside = [
        s
        for s in ix.trace.spans
        if s.phase in ("dependency", "validation")
        and s.start_ns <= at_ns < s.end_ns
        and not runs_in_thread(s)
        and not is_synthetic(s)
        and attr_str(s, "dependency.kind") != "cached"
        and solve in ix.ancestors(s)
    ]
    return max(inside, key=lambda s: (ix.depth.get(s.span_id, 0), s.start_ns), default=solve)


def _blocking_call(ix: TraceIndex, owner: Span, at_ns: int) -> Span | None:
    """A database call ``owner`` was making at ``at_ns`` (e.g. a sync pool checkout)."""
    calls = [
        s
        for s in ix.trace.spans
        if s.phase == "db" and s.start_ns <= at_ns < s.end_ns and owner in ix.ancestors(s)
    ]
    return max(calls, key=lambda s: s.start_ns, default=None)


def _gc_pause_within(trace: Trace, start_ns: int, length_ns: int) -> int:
    """Total recorded garbage-collection pause inside ``[start, start + length]``."""
    total = 0
    for span in trace.spans:
        for event in span.events:
            if event.name == "gc" and start_ns <= event.time_ns <= start_ns + length_ns:
                total += _int_attr(event.attributes, "gc.pause_ns")
    return total


def _first_call_within(ix: TraceIndex, start_ns: int, length_ns: int) -> int:
    """Time inside ``[start, start + length]`` that hooks marked first-request-only."""
    end = start_ns + length_ns
    return sum(
        max(0, min(g.end_ns, end) - max(g.start_ns, start_ns)) for g in ix.untraced if g.first_call
    )


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
        owner = blamed(ix, span)
        if span.name == "solve_dependencies":
            owner = _hold_owner(ix, span, span.start_ns + offset)
        call = _blocking_call(ix, owner, span.start_ns + offset)
        inside = f", inside {call.name}" if call is not None else ""
        at = span.start_ns + offset - trace.root.start_ns
        if _first_call_within(ix, span.start_ns + offset, hold) * 2 >= hold:
            continue  # a first-request-only cost a hook named (an import, an inspection)
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
                    f"+{fmt_ns(at)}{inside}); meanwhile no other request on this worker made "
                    "progress. "
                    "Await the slow call, or use a plain def so it runs in the threadpool."
                ),
                layer="event loop",
                span_id=owner.span_id,
                evidence={
                    "hold_ns": hold,
                    "offset_ns": offset,
                    "measured_on": span.name,
                    "blocked_by": owner.name,
                    "blocking_call": call.name if call is not None else None,
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
        who = blamed(ix, worst).name
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
    "outbound": "waiting for another service to answer",
    "routing": "FastAPI building or matching the route",
}


def dominant_step(ix: TraceIndex, limits: Thresholds) -> list[Finding]:
    """One span's own code took most of the request: that is where to optimise.

    Only work counts: a structural span (route, router, solver) has no own
    time, so a request stuck after its handler returned is never "the route's"
    fault. When the biggest share is time no hook covered, the finding says
    so and where; a gap a hook marked first-request-only is never one.
    """
    trace = ix.trace
    end = ix.response_end
    total = max(1, end - trace.root.start_ns)
    candidates = [
        (s, ix.own_before(s, end))
        for s in trace.spans
        if s.parent_id is not None
        and s.phase not in ("background", "send", "asgi")
        and s.name not in ("pool checkout", "threadpool wait")
        and not ix.is_structural(s)
    ]
    gaps = [
        (g, max(0, min(g.end_ns, end) - g.start_ns))
        for g in ix.untraced
        if not g.first_call and g.start_ns < end
    ]
    span, own = max(candidates, key=lambda so: so[1], default=(None, 0))
    gap, gap_ns = max(gaps, key=lambda gn: gn[1], default=(None, 0))
    if gap is not None and gap_ns > own:
        return _untraced_finding(ix, gap, gap_ns, total, limits)
    if span is None or own < limits.dominant_step_ns or own / total < limits.dominant_share:
        return []
    share = own / total
    span = blamed(ix, span)
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


def _untraced_finding(
    ix: TraceIndex, gap: Untraced, gap_ns: int, total: int, limits: Thresholds
) -> list[Finding]:
    """Most of the request is a gap: say where it sits and what ran last before it."""
    share = gap_ns / total
    if gap_ns < limits.dominant_step_ns or share < limits.dominant_share:
        return []
    where = ix.by_id.get(gap.parent_id or "")
    before = max(
        (s for s in ix.trace.spans if s.end_ns <= gap.start_ns and s is not where),
        key=lambda s: s.end_ns,
        default=None,
    )
    after = ""
    if before is not None:
        after = f", after {before.name} ended at +{fmt_ns(before.end_ns - ix.trace.root.start_ns)}"
    what = gap.name or "time no hook covered"
    return [
        Finding(
            code="dominant_step",
            severity="warning",
            title=f"{fmt_ns(gap_ns)} ({share:.0%} of the request) is {gap.label}",
            detail=(
                f"{fmt_ns(gap_ns)} of the {fmt_ns(total)} request is {what} inside "
                f"{where.name if where else 'the request'}{after}: no span "
                "ran then, so look at what that code awaits (a lock, a pool, a slow send)."
            ),
            layer=where.name if where is not None else "request",
            span_id=where.span_id if where is not None else None,
            evidence={
                "untraced_ns": gap_ns,
                "request_ns": total,
                "share": round(share, 3),
                "inside": where.name if where is not None else None,
                "after": before.name if before is not None else None,
                "cause": gap.name,
            },
        )
    ]
