"""Steps 6, 7, 9, 10: the handler (async and sync), serialisation, streaming, background."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import BackgroundTasks, FastAPI
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from tests.tracer.helpers import assert_well_formed, find, parent_of, request

pytestmark = pytest.mark.anyio


class UserOut(BaseModel):
    id: int
    email: str


async def slow_task(log: list[str]) -> None:
    await asyncio.sleep(0.02)
    log.append("sent")


def make_app(log: list[str]) -> FastAPI:
    app = FastAPI()

    @app.get("/async", response_model=UserOut)
    async def async_endpoint(tasks: BackgroundTasks) -> dict[str, object]:
        tasks.add_task(slow_task, log)
        return {"id": 1, "email": "a@example.com", "password_hash": "secret"}

    @app.get("/sync")
    def sync_endpoint() -> dict[str, int]:
        return {"total": sum(range(1000))}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks():  # type: ignore[no-untyped-def]
            for i in range(4):
                await asyncio.sleep(0)
                yield f"{i}".encode()

        return StreamingResponse(chunks())

    return app


async def test_async_handler_then_response_model_serialisation() -> None:
    log: list[str] = []
    response, trace = await request(make_app(log), "GET", "/async")
    assert response.json() == {"id": 1, "email": "a@example.com"}
    assert_well_formed(trace)
    handler = find(trace, "async_endpoint")
    assert (handler.phase, handler.step) == ("handler", 6)
    assert handler.attributes["handler.kind"] == "async"
    serialize = find(trace, "serialize UserOut")
    assert (serialize.phase, serialize.step) == ("serialization", 7)
    assert serialize.attributes["response_model"] == "UserOut"
    assert serialize.start_ns >= handler.end_ns


async def test_background_task_runs_after_response_and_does_not_stretch_it() -> None:
    log: list[str] = []
    _, trace = await request(make_app(log), "GET", "/async")
    assert log == ["sent"]
    task = find(trace, "slow_task")
    assert (task.phase, task.step) == ("background", 10)
    assert task.attributes["background.after_response"] is True
    assert trace.response_end_ns is not None
    assert task.start_ns >= trace.response_end_ns
    # the request's own duration ends at the response, before the 20 ms task
    response_ns = trace.root.attributes["trace_request.response_ns"]
    assert response_ns < trace.root.duration_ns
    assert trace.root.duration_ns - response_ns >= 15_000_000


async def test_sync_handler_runs_in_the_threadpool_with_its_wait() -> None:
    response, trace = await request(make_app([]), "GET", "/sync")
    assert response.json() == {"total": 499500}
    handler = find(trace, "sync_endpoint")
    assert handler.attributes["handler.kind"] == "sync"
    waits = {parent_of(trace, s).name: s for s in trace.spans if s.name == "threadpool wait"}
    assert handler.attributes["threadpool.wait_ns"] == waits["sync_endpoint"].duration_ns
    # for a def endpoint the (inferred) response model is validated in the threadpool too
    serialize = find(trace, "serialize dict[str, int]")
    assert serialize.step == 7
    assert waits["serialize dict[str, int]"].step == 7


async def test_streaming_body_is_timed_chunk_by_chunk_at_send() -> None:
    response, trace = await request(make_app([]), "GET", "/stream")
    assert response.content == b"0123"
    bodies = sorted(
        (s for s in trace.spans if s.name == "send http.response.body"), key=lambda s: s.start_ns
    )
    assert [s.attributes["body.bytes"] for s in bodies] == [1, 1, 1, 1, 0]
    assert bodies[-1].attributes["response.complete"] is True
    assert trace.response_end_ns == bodies[-1].end_ns
    # the handler returned before the body was produced
    assert find(trace, "stream").end_ns <= bodies[0].start_ns


async def test_loop_hold_separates_blocking_sleep_from_awaiting() -> None:
    import time

    app = FastAPI()

    @app.get("/blocking")
    async def blocking() -> dict[str, bool]:
        time.sleep(0.03)  # noqa: ASYNC251 - the bad example: holds the event loop
        return {"ok": True}

    @app.get("/awaiting")
    async def awaiting() -> dict[str, bool]:
        await asyncio.sleep(0.03)
        return {"ok": True}

    _, bad = await request(app, "GET", "/blocking")
    _, good = await request(app, "GET", "/awaiting")
    assert find(bad, "blocking").attributes["loop.max_hold_ns"] >= 30_000_000
    assert find(good, "awaiting").attributes["loop.max_hold_ns"] < 10_000_000
    assert find(good, "awaiting").duration_ns >= 30_000_000


async def test_unfiltered_response_records_field_names_never_values() -> None:
    app = FastAPI()

    @app.get("/leaky")
    async def leaky():  # type: ignore[no-untyped-def]  # no return annotation: no response_model
        return {"id": 1, "email": "a@example.com", "password_hash": "pbkdf2$secret-hash"}

    _, trace = await request(app, "GET", "/leaky")
    encoder = find(trace, "jsonable_encoder")
    assert encoder.attributes["response.fields"] == ["email", "id", "password_hash"]
    assert find(trace, "leaky").attributes["handler.returned_kind"] == "dict"
    assert "secret-hash" not in trace.to_json()


async def test_a_full_garbage_collection_inside_the_request_is_recorded() -> None:
    import gc

    app = FastAPI()

    @app.get("/collect")
    async def collect() -> dict[str, int]:
        garbage = [[i] for i in range(200_000)]  # enough objects for a measurable pass
        del garbage
        return {"collected": gc.collect(2)}

    _, trace = await request(app, "GET", "/collect")
    full = [
        e
        for e in find(trace, "collect").events
        if e.name == "gc" and e.attributes["gc.generation"] == 2
    ]
    assert full, "the explicit gc.collect(2) inside the handler was not recorded"
    assert full[0].attributes["gc.pause_ns"] >= 500_000
