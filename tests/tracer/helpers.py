"""Driving an instrumented app in-process and reading its traces."""

from __future__ import annotations

from typing import Any

import fastapi
import httpx

import tracer
from tracer.model import Span, SpanEvent, Trace

#: (major, minor) of the installed FastAPI, for expectations that depend on it
#: (scripts/matrix.sh runs the suite on older releases too).
FASTAPI_VERSION = tuple(int(part) for part in fastapi.__version__.split(".")[:2])


async def request(app: Any, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, Trace]:
    """Send one request through ``app`` (instrumenting it if needed); return response and trace."""
    if not tracer.is_instrumented(app):
        tracer.instrument(app, record_url_values=True)  # the tests read the paths back
    with tracer.capture(app) as traces:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.request(method, path, **kwargs)
    assert len(traces) == 1, f"expected one trace, got {len(traces)}"
    return response, traces.last


def names(trace: Trace, phase: str | None = None) -> list[str]:
    """Span names in start order, optionally of one phase."""
    spans = sorted(trace.spans, key=lambda s: s.start_ns)
    return [s.name for s in spans if phase is None or s.phase == phase]


def find(trace: Trace, name: str) -> Span:
    matches = [s for s in trace.spans if s.name == name]
    assert matches, f"no span {name!r} in {names(trace)}"
    assert len(matches) == 1, f"{len(matches)} spans named {name!r}"
    return matches[0]


def parent_of(trace: Trace, span: Span) -> Span:
    assert span.parent_id is not None
    return trace.by_id()[span.parent_id]


def ancestors(trace: Trace, span: Span) -> list[str]:
    by_id = trace.by_id()
    out = []
    while span.parent_id is not None:
        span = by_id[span.parent_id]
        out.append(span.name)
    return out


def assert_well_formed(trace: Trace) -> None:
    """Ids unique, one root, every parent exists, every span inside the root's interval."""
    ids = [s.span_id for s in trace.spans]
    assert len(ids) == len(set(ids))
    roots = [s for s in trace.spans if s.parent_id is None]
    assert len(roots) == 1
    by_id = trace.by_id()
    for span in trace.spans:
        assert span.parent_id is None or span.parent_id in by_id
        assert span.start_ns <= span.end_ns, span.name
        assert 1 <= span.step <= 10
        assert "trace_request.unfinished" not in span.attributes, span.name
        for event in span.events:
            assert span.start_ns <= event.time_ns <= span.end_ns, (span.name, event.name)


def exception_event(span: Span) -> SpanEvent:
    """The span's first ``exception`` event (a GC pause may add a ``gc`` event before it)."""
    matches = [e for e in span.events if e.name == "exception"]
    assert matches, f"no exception event on {span.name!r}: {[e.name for e in span.events]}"
    return matches[0]
