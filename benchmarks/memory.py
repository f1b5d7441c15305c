"""Memory per recorded span, measured with ``tracemalloc``.

Two measurements over ``N`` traced requests to the demo (a mix of
``GET /health``, ``GET /users/me`` and the cheap-hash ``POST /users``), every
cache warmed first:

* **finished traces**: a sink keeps every ``Trace``; the memory still held
  after the requests (``gc.collect()`` first), divided by the spans they hold;
* **control**: the same requests with nothing kept: what the app itself
  retains (database rows, caches) and is subtracted from both figures below;
* **during recording**: the recorder of each request is kept instead (its
  ``RawSpan``\\ s, their attribute dicts, the request/response dicts), so the
  figure is what a request holds while it is being recorded, per span. This
  reaches into ``Instrumentation.end`` of the app (an internal), and is
  skipped with a note if that changes.

Plus ``sys.getsizeof`` of the bare objects, for reference.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import tracemalloc
from dataclasses import dataclass, field
from typing import Any

from benchmarks.apps import CountingSink, bench_settings, endpoints, hash_patched, instrument


@dataclass
class MemoryResult:
    requests: int
    trace_spans: int
    trace_bytes: int
    raw_spans: int
    raw_bytes: int
    control_bytes: int = 0
    sizes: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def per_trace_span(self) -> float:
        kept = self.trace_bytes - self.control_bytes
        return kept / self.trace_spans if self.trace_spans else float("nan")

    @property
    def per_raw_span(self) -> float:
        kept = self.raw_bytes - self.control_bytes
        return kept / self.raw_spans if self.raw_spans else float("nan")


async def _drive(app: Any, requests: int) -> None:
    import httpx

    from benchmarks.apps import Variant

    variant = Variant("full", app)
    eps = [e for e in endpoints() if e.key in ("health", "users_me", "post_users_cheap")]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        variant.client = client
        for i in range(requests):
            ep = eps[i % len(eps)]
            with hash_patched(ep.cheap_hash):
                response = await client.request(ep.method, ep.path, **ep.request_kwargs(variant))
            assert response.status_code == ep.expect, response.text


async def _retained(app: Any, requests: int) -> int:
    """Bytes still allocated after ``requests`` requests (and a full collection)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    try:
        await _drive(app, requests)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


async def _measure(requests: int) -> MemoryResult:
    import tracer
    from tracer.capture import instrumentation as instrumentation_module
    from tracer.demo_app.main import create_app

    sink = CountingSink(keep=False)
    app = create_app(bench_settings())
    instrument(app, on_trace=sink)
    notes: list[str] = []
    async with app.router.lifespan_context(app):
        await _drive(app, 60)  # warm: handlers, caches, the pool, lru caches
        # 0. control: nothing kept
        sink.reset()
        control_bytes = await _retained(app, requests)
        # 1. finished traces kept by the sink
        sink.keep = True
        sink.reset()
        trace_bytes = await _retained(app, requests)
        trace_spans = sink.spans
        sink.keep = False
        sink.reset()
        # 2. recorders kept as they were at the end of the request
        state = getattr(app, getattr(instrumentation_module, "_STATE_ATTR", ""), None)
        raw_spans = raw_bytes = 0
        sizes: dict[str, int] = {}
        if state is None or not hasattr(state, "end"):
            notes.append("recording-time memory skipped: no Instrumentation.end to hook")
        else:
            kept: list[Any] = []
            original_end = state.end

            def end(rec: Any) -> None:
                kept.append(rec)
                original_end(rec)

            state.end = end
            try:
                raw_bytes = await _retained(app, requests)
            finally:
                del state.end  # back to the class's method
            raw_spans = sum(len(rec.spans) for rec in kept)
            sample = kept[-1].spans[-1] if kept and kept[-1].spans else None
            if sample is not None:
                sizes["RawSpan object"] = sys.getsizeof(sample)
                dicts = [s.attributes for rec in kept for s in rec.spans if s.attributes]
                if dicts:
                    sizes["RawSpan attributes dict (mean)"] = int(
                        sum(sys.getsizeof(d) for d in dicts) / len(dicts)
                    )
            kept.clear()
        sink.keep = True
        await _drive(app, 1)
        span = sink.traces[-1].spans[-1]
        sizes["Span object"] = sys.getsizeof(span)
        sizes["Span attributes dict"] = sys.getsizeof(span.attributes)
        sizes["span_id str"] = sys.getsizeof(span.span_id)
    tracer.uninstrument(app)
    return MemoryResult(
        requests=requests,
        trace_spans=trace_spans,
        trace_bytes=trace_bytes,
        raw_spans=raw_spans,
        raw_bytes=raw_bytes,
        control_bytes=control_bytes,
        sizes=sizes,
        notes=notes,
    )


def run(requests: int = 300) -> MemoryResult:
    return asyncio.run(_measure(requests))


if __name__ == "__main__":  # pragma: no cover - manual use
    r = run()
    print(r, f"{r.per_trace_span:.0f} B/span (trace), {r.per_raw_span:.0f} B/span (recording)")
