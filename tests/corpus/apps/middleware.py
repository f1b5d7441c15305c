"""``@app.middleware("http")`` (BaseHTTPMiddleware) plus a pure ASGI middleware.

Requests cover a plain GET, a JSON body read through BaseHTTPMiddleware's
wrapped ``receive``, a streaming response, a background task, and unhandled
errors in an ``async def`` and a ``def`` endpoint.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from fastapi import BackgroundTasks, FastAPI, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestIdMiddleware:
    """Pure ASGI: a fixed ``x-request-id`` on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", b"corpus-1")]
            await send(message)

        await self.app(scope, receive, send_with_id)


class Payload(BaseModel):
    text: str
    count: int = 1


def create_app(workdir: Path) -> FastAPI:
    app = FastAPI(title="middleware")
    done: list[str] = []

    @app.middleware("http")
    async def add_app_header(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers["x-app"] = "corpus"
        return response

    app.add_middleware(RequestIdMiddleware)

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    @app.post("/echo")
    async def echo(payload: Payload) -> Payload:
        return payload

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for n in range(3):
                yield f"chunk {n}\n".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.post("/jobs", status_code=202)
    async def enqueue(background: BackgroundTasks) -> dict[str, str]:
        background.add_task(done.append, "job")
        return {"queued": "job"}

    @app.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError("the handler failed")

    @app.get("/sync-boom")
    def sync_boom() -> dict[str, str]:
        raise ValueError("the sync handler failed")

    return app
