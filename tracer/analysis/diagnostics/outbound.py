"""Calls to other services: slow or failing ones, and ones that waited for each other for nothing.

Outbound spans (``phase == "outbound"``) carry the host (``server.address``)
and a URL template (``url.full``, no values), so a finding names the
dependency without repeating anything the app sent.

*Sequential calls that could have run concurrently* is a heuristic, and the
finding states its evidence: two or more calls to different URLs made by the
same span, none overlapping the next, and nothing else recorded between one
call's end and the next one's start (no query, no other call, no threadpool
work) and less than ``sequential_gap_ns`` of the caller's own code. A call
whose URL needs the previous answer usually has work in between (reading the
result, a query); when it does not, the finding says what to check.
"""

from __future__ import annotations

from itertools import pairwise

from tracer.analysis.diagnostics.finding import Finding, Thresholds
from tracer.analysis.index import TraceIndex
from tracer.analysis.readers import attr_int, attr_str, fmt_ns
from tracer.model import Span


def _where(span: Span) -> tuple[str, str]:
    """``(host, template)`` of an outbound call."""
    host = attr_str(span, "server.address") or "another service"
    return host, attr_str(span, "url.full") or span.name


def _calls(ix: TraceIndex) -> list[Span]:
    return sorted((s for s in ix.trace.spans if s.phase == "outbound"), key=lambda s: s.start_ns)


def outbound_failed(ix: TraceIndex, limits: Thresholds) -> list[Finding]:
    """A call that raised (time-out, refused connection) or got a 4xx/5xx answer."""
    out = []
    for span in _calls(ix):
        if span.status != "error":
            continue
        host, template = _where(span)
        method = attr_str(span, "http.request.method") or ""
        code = attr_int(span, "http.response.status_code")
        error = attr_str(span, "error.type") or "error"
        timeout = span.attributes.get("outbound.timeout") is True
        if code is not None:
            what = f"answered {code}"
        elif timeout:
            what = f"timed out ({error}) after {fmt_ns(span.duration_ns)}"
        else:
            what = f"failed: {error}"
        served = ix.trace.status_code
        handled = served is not None and served < 500
        detail = (
            f"{method} {template} {what}. "
            + (
                "The request still succeeded, so the app handled it; check that the fallback "
                "is what you meant."
                if handled
                else f"The request failed with it ({served or 'no response'})."
            )
            + (" Check the client's timeout against how long the service needs." if timeout else "")
        )
        out.append(
            Finding(
                code="outbound_failed",
                severity="info" if handled else "error",
                title=f"call to {host} {what}",
                detail=detail,
                layer=f"outbound call to {host}",
                span_id=span.span_id,
                evidence={
                    "host": host,
                    "url": template,
                    "method": method,
                    "status_code": code,
                    "error_type": error,
                    "timeout": timeout,
                    "duration_ns": span.duration_ns,
                },
            )
        )
    return out


def outbound_slow(ix: TraceIndex, limits: Thresholds) -> list[Finding]:
    """A call that took ``outbound_slow_ns`` or more (failed calls are reported above)."""
    out = []
    total = max(1, ix.response_end - ix.trace.root.start_ns)
    for span in _calls(ix):
        if span.status == "error" or span.duration_ns < limits.outbound_slow_ns:
            continue
        host, template = _where(span)
        ttfb = attr_int(span, "outbound.ttfb_ns")
        waited = attr_int(span, "outbound.pool_wait_ns")
        parts = []
        if ttfb is not None:
            parts.append(f"{fmt_ns(ttfb)} until the response headers arrived")
        if waited:
            parts.append(f"{fmt_ns(waited)} before it was sent (connection pool)")
        how = f" ({'; '.join(parts)})" if parts else ""
        out.append(
            Finding(
                code="outbound_slow",
                severity="warning",
                title=f"call to {host} took {fmt_ns(span.duration_ns)}",
                detail=(
                    f"{attr_str(span, 'http.request.method') or ''} {template} took "
                    f"{fmt_ns(span.duration_ns)}{how}, {span.duration_ns * 100 // total}% of "
                    "the request. The time is the other service's: cache its answer, call it "
                    "concurrently with other work, or set a tighter timeout."
                ),
                layer=f"outbound call to {host}",
                span_id=span.span_id,
                evidence={
                    "host": host,
                    "url": template,
                    "duration_ns": span.duration_ns,
                    "ttfb_ns": ttfb,
                    "pool_wait_ns": waited,
                },
            )
        )
    return out


def _between(ix: TraceIndex, caller: Span, first: Span, second: Span) -> bool:
    """Something other than the caller's own code ran between two of its calls."""
    for span in ix.trace.spans:
        if span is first or span is second or span is caller or span.parent_id is None:
            continue
        if first.end_ns <= span.start_ns < second.start_ns and caller in ix.ancestors(span):
            return True
    return False


def _breaks(ix: TraceIndex, caller: Span, chain: list[Span], call: Span, gap_ns: int) -> bool:
    """``call`` does not continue ``chain``: it overlaps, waits, repeats a URL, or follows work."""
    prev = chain[-1]
    return (
        call.start_ns < prev.end_ns
        or call.start_ns - prev.end_ns > gap_ns
        or attr_str(call, "url.full") in {attr_str(c, "url.full") for c in chain}
        or _between(ix, caller, prev, call)
    )


def _chains(ix: TraceIndex, limits: Thresholds) -> list[tuple[Span, list[Span]]]:
    """``(caller, calls)``: runs of back-to-back calls one span made, each to another URL."""
    by_caller: dict[str, list[Span]] = {}
    for span in _calls(ix):
        by_caller.setdefault(span.parent_id or "", []).append(span)
    chains: list[tuple[Span, list[Span]]] = []
    for caller_id, calls in by_caller.items():
        caller = ix.by_id.get(caller_id)
        if caller is None:
            continue
        chain: list[Span] = []
        for call in calls:
            if chain and _breaks(ix, caller, chain, call, limits.sequential_gap_ns):
                if len(chain) > 1:
                    chains.append((caller, chain))
                chain = []
            chain.append(call)
        if len(chain) > 1:
            chains.append((caller, chain))
    return chains


def sequential_calls(ix: TraceIndex, limits: Thresholds) -> list[Finding]:
    """Calls made one after another with nothing between them: they could run concurrently."""
    out = []
    for caller, chain in _chains(ix, limits):
        serial = sum(s.duration_ns for s in chain)
        longest = max(s.duration_ns for s in chain)
        if serial - longest < limits.sequential_saving_ns:
            continue
        gaps = [b.start_ns - a.end_ns for a, b in pairwise(chain)]
        urls = [f"{attr_str(s, 'http.request.method') or ''} {_where(s)[1]}" for s in chain]
        out.append(
            Finding(
                code="sequential_calls",
                severity="info",
                title=f"{len(chain)} calls from {caller.name} ran one after another",
                detail=(
                    f"{caller.name} called {', then '.join(urls)}: {fmt_ns(serial)} in all, each "
                    f"call starting at most {fmt_ns(max(gaps))} after the previous one ended, "
                    "with no query or other call between them. If no call needs an earlier "
                    "one's answer, run them together (asyncio.gather, a task group): about "
                    f"{fmt_ns(longest)} instead of {fmt_ns(serial)}."
                ),
                layer=f"handler {caller.name}" if caller.phase == "handler" else caller.name,
                span_id=chain[0].span_id,
                evidence={
                    "caller": caller.name,
                    "calls": urls,
                    "hosts": sorted({_where(s)[0] for s in chain}),
                    "serial_ns": serial,
                    "concurrent_ns": longest,
                    "gaps_ns": gaps,
                    "nothing_between": True,
                },
            )
        )
    return out
