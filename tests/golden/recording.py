"""Recording real demo traces under a fake clock, so renderings are identical on every run.

The app, its middleware, database and hooks are all real; only the clock the
recorder reads is replaced (each reading advances it by 10 µs), span ids are
renumbered in start order, and the garbage collector is paused while recording.
"""

from __future__ import annotations

import asyncio
import gc
import os
from typing import Any

import httpx

import tracer
from tracer.capture import clock
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


def record(name: str) -> Trace:
    """The trace of one scenario, recorded from the real demo app under a fake clock."""
    method, path, kwargs = SCENARIOS[name]
    fake = clock.FakeClock()
    clock.install(fake, fake)
    # when a collection lands depends on the whole test process: keep it out of goldens
    gc.collect()
    gc.disable()
    previous = os.environ.get("DEMO_DATABASE_URL")
    os.environ.pop("DEMO_DATABASE_URL", None)
    try:
        trace = asyncio.run(_record(method, path, dict(kwargs)))
    finally:
        gc.enable()
        clock.reset()
        if previous is not None:
            os.environ["DEMO_DATABASE_URL"] = previous
    return _renumber(trace)


async def _record(method: str, path: str, kwargs: dict[str, Any]) -> Trace:
    app = tracer.instrument(create_app())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        headers = {"x-request-id": "golden-0001", **kwargs.pop("headers", {})}
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            with tracer.capture(app) as traces:
                await client.request(method, path, headers=headers, **kwargs)
    return traces.last


def _renumber(trace: Trace) -> Trace:
    ordered = sorted(trace.spans, key=lambda s: (s.start_ns, s.span_id))
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
