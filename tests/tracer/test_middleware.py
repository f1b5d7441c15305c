"""Step 1, 2, 8, 9: the server edge and each middleware layer, in and out."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import BackgroundTasks, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import StreamingResponse
from starlette.middleware.base import BaseHTTPMiddleware

from tests.tracer.helpers import (
    assert_well_formed,
    exception_event,
    find,
    names,
    parent_of,
    request,
)

pytestmark = pytest.mark.anyio


class PureASGI:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def tagged(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-pure", b"1")]
            await send(message)

        await self.app(scope, receive, tagged)


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ok")
    async def ok() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    app.add_middleware(PureASGI)

    @app.middleware("http")
    async def request_id(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["x-request-id"] = "abc"
        return response

    app.add_middleware(CORSMiddleware, allow_origins=["https://app.example"])
    return app


async def test_each_layer_gets_its_own_span_nested_outermost_first() -> None:
    response, trace = await request(
        make_app(), "GET", "/ok", headers={"origin": "https://app.example"}
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "abc"
    assert_well_formed(trace)
    layers = names(trace, "middleware")
    inbound = [n for n in layers if not n.endswith(" response")]
    assert inbound[0] == "ServerErrorMiddleware"
    assert inbound.index("CORSMiddleware") < inbound.index("request_id") < inbound.index("PureASGI")
    assert inbound.index("PureASGI") < inbound.index("ExceptionMiddleware")
    # each layer is the child of the layer above it
    assert parent_of(trace, find(trace, "request_id")).name == "CORSMiddleware"
    assert parent_of(trace, find(trace, "PureASGI")).name == "request_id"
    assert parent_of(trace, find(trace, "router")).phase == "middleware"
    for name in inbound:
        span = find(trace, name)
        assert span.step == 2
        assert span.attributes["middleware.request_ns"] >= 0


async def test_response_path_is_recorded_per_layer_in_reverse_order() -> None:
    _, trace = await request(make_app(), "GET", "/ok")
    outbound = [
        n.removesuffix(" response") for n in names(trace, "middleware") if n.endswith(" response")
    ]
    inbound = [n for n in names(trace, "middleware") if not n.endswith(" response")]
    assert outbound == list(reversed(inbound))
    cors_out = find(trace, "CORSMiddleware response")
    assert cors_out.step == 8
    assert parent_of(trace, cors_out).name == "CORSMiddleware"
    assert cors_out.attributes["http.response.status_code"] == 200


async def test_server_edge_records_receive_send_and_response_complete() -> None:
    _, trace = await request(make_app(), "GET", "/ok")
    root = trace.root
    assert root.name == "GET /ok"
    assert root.phase == "asgi" and root.step == 1
    assert root.attributes["http.request.method"] == "GET"
    assert root.attributes["http.route"] == "/ok"
    assert root.attributes["http.response.status_code"] == 200
    sends = [s for s in trace.spans if s.phase == "send"]
    first = min(sends, key=lambda s: s.start_ns)
    assert first.name == "send http.response.start"
    last_body = max(
        (s for s in sends if s.name == "send http.response.body"), key=lambda s: s.end_ns
    )
    assert last_body.attributes["response.complete"] is True
    # BaseHTTPMiddleware adds an empty final body: completion is the last message, not the first
    assert trace.response_end_ns == last_body.end_ns
    assert all(s.step == 9 for s in sends)
    assert trace.response["status_code"] == 200


async def test_500_from_handler_is_built_by_server_error_middleware() -> None:
    response, trace = await request(
        make_app(), "GET", "/boom", headers={"origin": "https://app.example"}
    )
    assert response.status_code == 500
    assert "access-control-allow-origin" not in response.headers
    assert_well_formed(trace)
    root = trace.root
    assert root.status == "error"
    assert root.attributes["trace_request.response_origin"] == "ServerErrorMiddleware"
    handler = find(trace, "boom")
    assert handler.status == "error"
    assert [e.name for e in handler.events] == ["exception"]
    assert exception_event(handler).attributes["exception.type"] == "RuntimeError"
    # the exception propagated through every layer up to ServerErrorMiddleware
    for layer in ("CORSMiddleware", "request_id", "ExceptionMiddleware"):
        assert find(trace, layer).status == "error"
        assert find(trace, layer).attributes["error.type"] == "RuntimeError"


async def test_500_from_a_middleware_names_the_middleware() -> None:
    app = FastAPI()

    @app.get("/ok")
    async def ok() -> dict[str, str]:
        return {"ok": "yes"}

    class Broken(BaseHTTPMiddleware):
        async def dispatch(self, request: Any, call_next: Any) -> Any:
            raise ValueError("bad middleware")

    app.add_middleware(Broken)
    response, trace = await request(app, "GET", "/ok")
    assert response.status_code == 500
    broken = find(trace, "Broken")
    assert broken.status == "error"
    assert exception_event(broken).attributes["exception.message"] == "bad middleware"
    assert "router" not in names(trace)


async def test_basehttpmiddleware_streaming_and_background_do_not_mix_contexts() -> None:
    app = make_app()
    done: list[str] = []

    @app.get("/stream")
    async def stream(tasks: BackgroundTasks) -> StreamingResponse:
        async def chunks() -> Any:
            for i in range(3):
                yield f"chunk{i}\n"

        tasks.add_task(done.append, "bg")
        return StreamingResponse(chunks(), background=tasks)

    response, trace = await request(app, "GET", "/stream")
    assert response.text == "chunk0\nchunk1\nchunk2\n"
    assert done == ["bg"]
    assert_well_formed(trace)
    bodies = [
        s for s in trace.spans if s.name == "send http.response.body" and s.attributes["body.bytes"]
    ]
    assert len(bodies) == 3
    bg = find(trace, "append")
    assert bg.phase == "background" and bg.step == 10
    assert bg.attributes["background.after_response"] is True
    assert trace.response_end_ns is not None and bg.start_ns >= trace.response_end_ns
