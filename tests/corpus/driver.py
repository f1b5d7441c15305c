"""Driving an ASGI app in-process: real lifespan, sequential or concurrent requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

BASE_URL = "http://testserver"


@dataclass(frozen=True)
class Answer:
    """What the client saw for one request."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = field(repr=False)


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Run the app's ASGI lifespan (startup before, shutdown after) around the block."""
    to_app, app_inbox = anyio.create_memory_object_stream[dict[str, Any]](4)
    app_outbox, from_app = anyio.create_memory_object_stream[dict[str, Any]](4)
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}

    async def run() -> None:
        async with app_inbox, app_outbox:
            await app(scope, app_inbox.receive, app_outbox.send)

    async with anyio.create_task_group() as tg, to_app, from_app:
        tg.start_soon(run)
        await to_app.send({"type": "lifespan.startup"})
        message = await from_app.receive()
        if message["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"lifespan startup failed: {message}")
        try:
            yield
        finally:
            await to_app.send({"type": "lifespan.shutdown"})
            message = await from_app.receive()
            if message["type"] != "lifespan.shutdown.complete":
                raise RuntimeError(f"lifespan shutdown failed: {message}")


def client(app: Any) -> httpx.AsyncClient:
    """An httpx client that calls ``app`` in-process; unhandled errors come back as 500s."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, follow_redirects=False)


async def send(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    json: Any = None,
    data: dict[str, str] | None = None,
    concurrency: int = 1,
) -> list[Answer]:
    """Send the request ``concurrency`` times at once; the answers in completion order."""
    answers: list[Answer] = []

    async def one() -> None:
        response = await http.request(method, path, headers=headers, json=json, data=data)
        answers.append(
            Answer(response.status_code, list(response.headers.multi_items()), response.content)
        )

    if concurrency == 1:
        await one()
        return answers
    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(one)
    return answers
