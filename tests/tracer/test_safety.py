"""The tracer never breaks the host app, never mixes requests, and can be undone."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import pytest
from fastapi import BackgroundTasks, Depends, FastAPI, WebSocket
from fastapi.testclient import TestClient

import tracer
from tests.tracer.helpers import assert_well_formed, names, request
from tracer import safety
from tracer.capture.hooks.asgi import EdgeProbe
from tracer.capture.recorder import RawSpan, Recorder

pytestmark = pytest.mark.anyio


def sync_dep(n: int) -> int:
    return n


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/item/{n}")
    async def item(
        n: int, tasks: BackgroundTasks, same: Annotated[int, Depends(sync_dep)]
    ) -> dict[str, int]:
        await asyncio.sleep(random.random() / 200)
        tasks.add_task(asyncio.sleep, random.random() / 500)
        return {"n": n, "same": same}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        text = await websocket.receive_text()
        await websocket.send_text(text.upper())
        await websocket.close()

    return app


@pytest.fixture
def _reset_safety() -> Iterator[None]:
    safety.reset()
    yield
    safety.reset()


async def test_concurrent_requests_never_mix() -> None:
    app = tracer.instrument(make_app(), record_url_values=True)
    with tracer.capture(app) as traces:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            responses = await asyncio.gather(*(client.get(f"/item/{n}") for n in range(60)))
    assert [r.json()["n"] for r in responses] == list(range(60))
    assert len(traces) == 60
    by_path = {t.root.attributes["url.path"]: t for t in traces.traces}
    assert sorted(by_path) == sorted(f"/item/{n}" for n in range(60))
    # one request pays the endpoint's first-call inspection; the rest are the same shape
    shapes = {
        tuple(sorted(s.name for s in t.spans if not s.attributes.get("gap.first_call")))
        for t in traces.traces
    }
    assert len(shapes) == 1, "every trace holds exactly one request's spans"
    for trace in traces.traces:
        assert_well_formed(trace)
        root = trace.root
        assert all(root.start_ns <= s.start_ns <= root.end_ns for s in trace.spans)


@pytest.mark.usefixtures("_reset_safety")
@pytest.mark.parametrize("broken", ["open", "set"])
async def test_errors_inside_the_tracer_leave_responses_unchanged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, broken: str
) -> None:
    plain = make_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=plain), base_url="http://t"
    ) as client:
        expected = await client.get("/item/3")

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tracer bug")

    monkeypatch.setattr(Recorder if broken == "open" else RawSpan, broken, explode)
    app = tracer.instrument(make_app())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        first = await client.get("/item/3")
        second = await client.get("/item/3")
    for got in (first, second):
        assert got.status_code == expected.status_code
        assert got.content == expected.content
    assert sum(safety.dropped.values()) > 0
    warnings = [r for r in caplog.records if r.name == "trace_request"]
    kinds = {r.getMessage().split(" failed")[0] for r in warnings}
    assert len(warnings) == len(kinds), "each kind of failure is reported once"


async def test_instrument_is_idempotent_and_works_before_routes_exist() -> None:
    app = FastAPI()
    tracer.instrument(app)
    tracer.instrument(app)

    @app.get("/late")
    async def late() -> dict[str, bool]:
        return {"late": True}

    @app.middleware("http")
    async def added_later(request: Any, call_next: Any) -> Any:
        return await call_next(request)

    response, trace = await request(app, "GET", "/late")
    assert response.json() == {"late": True}
    assert names(trace).count("ServerErrorMiddleware") == 1
    assert "added_later" in names(trace)
    assert names(trace).count("late") == 1


async def test_instrument_after_the_first_request_and_uninstrument() -> None:
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/item/1")).status_code == 200
        tracer.instrument(app)
        with tracer.capture(app) as traces:
            await c.get("/item/1")
        assert len(traces) == 1
        assert isinstance(app.middleware_stack, EdgeProbe)
        tracer.uninstrument(app)
        assert not tracer.is_instrumented(app)
        with tracer.capture() as after:
            assert (await c.get("/item/1")).json()["n"] == 1
        assert len(after) == 0
        assert not isinstance(app.middleware_stack, EdgeProbe)


def test_websocket_and_lifespan_pass_through_untouched() -> None:
    app = make_app()
    started: list[str] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        started.append("up")
        yield
        started.append("down")

    app.router.lifespan_context = lifespan
    tracer.instrument(app)
    with tracer.capture(app) as traces, TestClient(app) as client:
        with client.websocket_connect("/ws") as ws:
            ws.send_text("hello")
            assert ws.receive_text() == "HELLO"
        assert client.get("/item/2").status_code == 200
    assert started == ["up", "down"]
    assert [t.root.attributes["url.path"] for t in traces.traces] == ["/item/…"]


def test_add_middleware_form_traces_the_layers_inside_it() -> None:
    app = make_app()
    collected: list[tracer.Trace] = []
    app.add_middleware(tracer.TraceRequestMiddleware, on_trace=collected.append)
    with TestClient(app) as client:
        assert client.get("/item/5").json()["n"] == 5
    startup, trace, shutdown = collected  # the lifespan is traced too
    assert (startup.root.name, shutdown.root.name) == ("lifespan startup", "lifespan shutdown")
    assert "item" in names(trace, "handler")
    assert "router" in names(trace)
    # ServerErrorMiddleware sits outside user middleware: this form cannot see it
    assert "ServerErrorMiddleware" not in names(trace)
