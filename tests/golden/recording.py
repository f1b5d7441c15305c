"""Recording real demo traces under a fake clock, so renderings are identical on every run.

The app, its middleware, database and hooks are all real; only the clock the
recorder reads is replaced, span ids are renumbered in start order, and the
garbage collector is paused while recording. The clock is a
:class:`~tracer.capture.clock.BoundaryClock`: time advances 10 µs per span
start or end the request records, not per reading, so a hook that reads the
clock once more does not shift every later timestamp in every golden file.
"""

from __future__ import annotations

import asyncio
import gc
import os
from typing import Any

import httpx

import tracer
from tracer.capture import clock, recorder
from tracer.demo_app.main import create_app
from tracer.model import Trace

#: Requests whose traces the golden tests render: name -> (method, path, request kwargs).
SCENARIOS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "post_users_201": (
        "POST",
        "/users",
        {"json": {"email": "ada@example.com", "password": "s3cret-pass"}},
    ),
    "post_users_409": (
        "POST",
        "/users",
        {"json": {"email": "grace@example.com", "password": "s3cret-pass"}},
    ),
    "search_422": ("GET", "/search?q=p", {}),
    "me_401": ("GET", "/users/me", {}),
    "not_found_404": ("GET", "/nowhere", {}),
    "boom_500": ("GET", "/boom", {"headers": {"origin": "https://app.example"}}),
    "stream_200": ("GET", "/stream", {}),
}


def record(name: str, *, extra_reads: int = 0) -> Trace:
    """The trace of one scenario, recorded from the real demo app under a fake clock.

    ``extra_reads`` makes every clock reading read it that many more times, as
    a hook that measures one more thing would (the trace must not change).
    """
    method, path, kwargs = SCENARIOS[name]
    fake = clock.BoundaryClock(_boundaries)

    def read() -> int:
        for _ in range(extra_reads):
            fake()
        return fake()

    clock.install(read, read)
    # when a collection lands depends on the whole test process: keep it out of goldens
    gc.collect()
    gc.disable()
    previous = os.environ.get("DEMO_DATABASE_URL")
    os.environ.pop("DEMO_DATABASE_URL", None)
    try:
        _first_calls_as_in_a_fresh_process()
        trace = asyncio.run(_record(method, path, dict(kwargs)))
    finally:
        gc.enable()
        clock.reset()
        if previous is not None:
            os.environ["DEMO_DATABASE_URL"] = previous
    return _renumber(trace)


def _boundaries() -> int | None:
    """Span starts and ends the current request has recorded (``None`` outside one)."""
    rec = recorder.current.get()
    if rec is None:
        return None
    spans = rec.spans
    return len(spans) + sum(1 for span in spans if span.end >= 0)


def _first_calls_as_in_a_fresh_process() -> None:
    """Every golden shows the request as the CLI's traced request sees it, whatever ran
    before it in this test process: FastAPI has not inspected the endpoint yet (a
    process-wide cache keyed by the function), and anyio's backend is already imported
    (the CLI's warm-up request imports it)."""
    import anyio
    import fastapi.routing

    cache = getattr(fastapi.routing, "_endpoint_context_cache", None)
    if isinstance(cache, dict):
        cache.clear()
    anyio.run(anyio.sleep, 0)


async def _record(method: str, path: str, kwargs: dict[str, Any]) -> Trace:
    app = tracer.instrument(create_app(), record_url_values=True)  # as the CLI records
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        headers = {"x-request-id": "golden-0001", **kwargs.pop("headers", {})}
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            with tracer.capture(app) as traces:
                await client.request(method, path, headers=headers, **kwargs)
    return traces.last


def _renumber(trace: Trace) -> Trace:
    # ties (a router and its match open at one reading) keep the order they were recorded in
    order = {id(span): n for n, span in enumerate(trace.spans)}
    ordered = sorted(trace.spans, key=lambda s: (s.start_ns, order[id(s)]))
    ids = {span.span_id: f"{index + 1:016x}" for index, span in enumerate(ordered)}
    for span in trace.spans:
        span.span_id = ids[span.span_id]
        span.parent_id = ids.get(span.parent_id) if span.parent_id else None
    trace.trace_id = "0" * 31 + "1"
    # the demo's own Server-Timing header carries a real wall-clock duration
    for pair in trace.response.get("headers", []):
        if pair[0] == "server-timing":
            pair[1] = "app;dur=(real time)"
    return trace
