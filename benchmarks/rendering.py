"""Rendering a 1,000-span trace as a sequence diagram and as a waterfall.

The trace is synthetic but shaped like a real one: a recorded ``POST /users``
trace of the demo (every phase, real attribute sets) whose handler is given
extra ``SELECT`` statements (an N+1 loop) until the trace holds exactly 1,000
spans. Each renderer is timed with ``perf_counter_ns`` around
``get_renderer(name)(width=120, color=False).render(trace)``: the first call
(cold: Rich and the renderer's caches warm up) and the median of the next ones.
"""

from __future__ import annotations

import asyncio
import copy
import time
from dataclasses import dataclass

from benchmarks.harness import median

SPANS = 1000


async def _recorded_trace() -> object:
    import httpx

    import tracer
    from benchmarks.apps import bench_settings, hash_patched, instrument
    from tracer.demo_app.main import create_app

    app = create_app(bench_settings())
    instrument(app)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await client.get("/health")  # first-request costs out of the way
            with hash_patched(True), tracer.capture(app) as traces:
                response = await client.post(
                    "/users", json={"email": "render@example.com", "password": "s3cret-pass"}
                )
    tracer.uninstrument(app)
    assert response.status_code == 201, response.text
    return traces.last


def synthetic_trace(spans: int = SPANS) -> object:
    """A recorded demo trace grown to ``spans`` spans with N+1 ``SELECT``s in the handler."""
    import os

    trace = asyncio.run(_recorded_trace())
    handler = next(s for s in trace.spans if s.phase == "handler" and s.step == 6)  # type: ignore[attr-defined]
    template = next(
        s
        for s in trace.spans  # type: ignore[attr-defined]
        if s.phase == "db" and s.name.startswith("SELECT") and s.parent_id == handler.span_id
    )
    missing = spans - len(trace.spans)  # type: ignore[attr-defined]
    if missing <= 0:
        return trace
    slot = max(2, handler.duration_ns // (missing + 1))
    clones = []
    for i in range(missing):
        clone = copy.deepcopy(template)
        clone.span_id = os.urandom(8).hex()
        clone.name = "SELECT items"
        clone.attributes["db.statement"] = (
            "SELECT items.id, items.name, items.owner_id FROM items WHERE items.owner_id = ?"
        )
        clone.start_ns = handler.start_ns + (i + 1) * slot - slot // 2
        clone.end_ns = clone.start_ns + slot // 2
        clones.append(clone)
    trace.spans.extend(clones)  # type: ignore[attr-defined]
    trace.spans.sort(key=lambda s: s.start_ns)  # type: ignore[attr-defined]
    return trace


@dataclass
class RenderResult:
    spans: int
    first_s: dict[str, float]
    median_s: dict[str, float]
    lines: dict[str, int]


def run(repeats: int = 5, names: tuple[str, ...] = ("sequence", "waterfall")) -> RenderResult:
    from tracer.renderers import get_renderer

    trace = synthetic_trace()
    first: dict[str, float] = {}
    times: dict[str, list[float]] = {n: [] for n in names}
    lines: dict[str, int] = {}
    for r in range(repeats + 1):
        for name in names if r % 2 == 0 else tuple(reversed(names)):  # interleaved
            t0 = time.perf_counter_ns()
            text = get_renderer(name)(width=120, color=False).render(trace)  # type: ignore[call-arg,arg-type]
            seconds = (time.perf_counter_ns() - t0) / 1e9
            if r == 0:
                first[name] = seconds
                lines[name] = text.count("\n")
            else:
                times[name].append(seconds)
    return RenderResult(
        spans=len(trace.spans),  # type: ignore[attr-defined]
        first_s=first,
        median_s={n: median(v) for n, v in times.items()},
        lines=lines,
    )


if __name__ == "__main__":  # pragma: no cover - manual use
    print(run())
