"""No app behaves differently with the tracer: streaming, websockets, lifespan, mounts,
exception handlers, dependency overrides, odd bodies and headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import pytest
from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, Request, WebSocket
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.testclient import TestClient

import tracer
from tests.reliability.identity import Req, compare
from tracer.demo_app.main import create_app

pytestmark = pytest.mark.anyio


class Teapot(Exception):
    pass


def get_flag() -> str:
    return "real"


def small_app() -> FastAPI:
    state: dict[str, str] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state["ready"] = "yes"
        yield
        state.clear()

    app = FastAPI(lifespan=lifespan)

    @app.exception_handler(Teapot)
    async def teapot(request: Request, exc: Teapot) -> JSONResponse:
        return JSONResponse({"detail": "short and stout"}, status_code=418)

    @app.get("/ready")
    async def ready() -> dict[str, str]:
        return state

    @app.get("/teapot")
    async def brew() -> None:
        raise Teapot()

    @app.get("/http-error")
    async def http_error() -> None:
        raise HTTPException(409, "conflict", headers={"x-why": "because"})

    @app.get("/flag")
    async def flag(value: Annotated[str, Depends(get_flag)]) -> dict[str, str]:
        return {"flag": value}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(5):
                yield bytes([i]) * 1000

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    @app.post("/echo")
    async def echo(request: Request, tasks: BackgroundTasks) -> PlainTextResponse:
        body = await request.body()
        tasks.add_task(len, body)
        return PlainTextResponse(body, media_type="application/octet-stream")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("unhandled")

    sub = FastAPI()

    @sub.get("/inner")
    async def inner() -> dict[str, str]:
        return {"inner": "yes"}

    app.mount("/sub", sub)
    return app


def overridden_app() -> FastAPI:
    app = small_app()

    def fake_flag() -> str:
        return "overridden"

    app.dependency_overrides[get_flag] = fake_flag
    return app


SMALL = [
    Req("GET", "/ready"),
    Req("GET", "/teapot"),
    Req("GET", "/http-error"),
    Req("GET", "/flag"),
    Req("GET", "/stream"),
    Req("POST", "/echo", {"content": bytes(range(256)) * 4096}),  # 1 MiB of binary
    Req("POST", "/echo", {"content": b"", "headers": {"content-type": "application/json"}}),
    Req("GET", "/boom"),
    Req("GET", "/sub/inner"),
    Req("GET", "/sub/missing"),
    Req("GET", "/caf%C3%A9/%FF%FE"),  # percent-encoded invalid UTF-8 in the path
    # latin-1 bytes that are not UTF-8, in a header
    Req("GET", "/ready", {"headers": {"x-odd": "caf\xe9 \xff".encode("latin-1")}}),
]


async def test_small_app_is_unchanged() -> None:
    assert await compare(small_app, SMALL) == []


async def test_dependency_overrides_are_unchanged() -> None:
    assert await compare(overridden_app, [Req("GET", "/flag")]) == []


async def test_unchanged_when_unsampled_too() -> None:
    # unsampled: only the unhandled error (GET /boom) leaves a trace
    assert await compare(small_app, SMALL, sample_rate=0.0, expect_traces=1) == []


async def test_demo_app_is_unchanged() -> None:
    volatile = frozenset({"date", "x-request-id", "server-timing", "content-length"})
    requests = [
        Req("GET", "/health"),
        Req("GET", "/users/999"),  # seeded rows carry their creation time: compare a 404
        Req("GET", "/items/1"),
        Req("POST", "/users", {"json": {"email": "nope", "password": "x"}}),
        Req(
            "POST",
            "/users",
            {"content": b'{"email": ', "headers": {"content-type": "application/json"}},
        ),
        Req("GET", "/search?q=p"),
        Req("GET", "/items", {"headers": {"accept-encoding": "gzip"}}),
        Req("GET", "/stream"),
        Req("GET", "/boom"),
    ]
    requests = [Req(r.method, r.path, r.kwargs, volatile) for r in requests]
    assert await compare(create_app, requests) == []


def test_websocket_is_unchanged_and_untraced() -> None:
    def make() -> FastAPI:
        app = FastAPI()

        @app.websocket("/ws")
        async def ws(websocket: WebSocket) -> None:
            await websocket.accept()
            while True:
                text = await websocket.receive_text()
                if text == "bye":
                    await websocket.close(code=1000)
                    return
                await websocket.send_text(text[::-1])

        return app

    def talk(app: FastAPI) -> list[str]:
        with TestClient(app) as client, client.websocket_connect("/ws") as ws:
            out = []
            for word in ("abc", "déjà", "x" * 10_000):
                ws.send_text(word)
                out.append(ws.receive_text())
            ws.send_text("bye")
            return out

    traced = tracer.instrument(make(), store=False)
    with tracer.capture(traced) as traces:
        assert talk(traced) == talk(make())
    assert len(traces) == 0


async def test_a_client_disconnecting_mid_stream_is_recorded() -> None:
    import asyncio

    app = FastAPI()

    @app.get("/forever")
    async def forever() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(1000):
                await asyncio.sleep(0.001)
                yield b"x" * 100

        return StreamingResponse(chunks())

    tracer.instrument(app, store=False)
    sent: list[dict[str, Any]] = []
    received = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += 1
        if received == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(0.02)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if len(sent) > 5:
            raise OSError("client went away")  # the server's send fails once the peer is gone

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/forever",
        "raw_path": b"/forever",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "root_path": "",
    }
    with tracer.capture(app) as traces, pytest.raises(OSError, match="client went away"):
        await app(scope, receive, send)
    trace = traces.last
    failed_sends = [s for s in trace.spans if s.phase == "send" and s.status == "error"]
    assert failed_sends, "the failed send is recorded"
    assert failed_sends[0].events[0].attributes["exception.type"] == "OSError"
    assert trace.response_end_ns is None, "the response never completed"


async def test_a_failing_sink_never_reaches_the_app(caplog: pytest.LogCaptureFixture) -> None:
    def broken_sink(trace: tracer.Trace) -> None:
        raise RuntimeError("sink exploded")

    problems = await compare(small_app, [Req("GET", "/ready"), Req("GET", "/flag")])
    assert problems == []
    app = tracer.instrument(small_app(), store=False, on_trace=broken_sink)
    with TestClient(app) as client:
        assert client.get("/ready").json() == {"ready": "yes"}
        assert client.get("/ready").json() == {"ready": "yes"}
    messages = [r.getMessage() for r in caplog.records if "sink exploded" in r.getMessage()]
    assert len(messages) == 1, "reported once"
