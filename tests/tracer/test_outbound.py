"""Outbound HTTP through httpx: spans, what they may hold, traceparent propagation, failures."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

import tracer
from tests.tracer.helpers import assert_well_formed, find, names, parent_of, request
from tracer.analysis.index import analyse
from tracer.analysis.invariants import check
from tracer.capture.hooks.outbound import url_template
from tracer.model import Span, Trace

pytestmark = pytest.mark.anyio

#: the service called: echoes the headers it got, sleeps on request, fails on request
service = FastAPI()


@service.get("/stock/{sku}")
async def stock(sku: int, request: Request, delay: float = 0.0) -> dict[str, Any]:
    if delay:
        await asyncio.sleep(delay)
    return {"sku": sku, "headers": dict(request.headers)}


@service.get("/down")
async def down() -> None:
    raise RuntimeError("service down")


def client(**kwargs: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=service, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://inventory.internal", **kwargs)


def outbound(trace: Trace) -> list[Span]:
    return sorted((s for s in trace.spans if s.phase == "outbound"), key=lambda s: s.start_ns)


def app_calling(path: str, **client_kwargs: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/call")
    async def call() -> Any:
        async with client(**client_kwargs) as c:
            response = await c.get(path)
        return {"status": response.status_code, "body": response.json()}

    return app


async def test_an_async_call_is_a_span_under_the_handler_with_its_template() -> None:
    app = app_calling("/stock/42?token=sekrit-value&page=2")
    response, trace = await request(app, "GET", "/call")
    assert response.json()["status"] == 200
    (span,) = outbound(trace)
    assert span.name == "GET inventory.internal/stock/…"
    assert parent_of(trace, span).name == "call"
    assert span.step == 6
    attrs = span.attributes
    assert attrs["http.request.method"] == "GET"
    assert attrs["url.full"] == "http://inventory.internal/stock/…?token=…&page=…"
    assert attrs["server.address"] == "inventory.internal"
    assert attrs["http.response.status_code"] == 200
    assert attrs["http.response.body.size"] > 0
    assert 0 < attrs["outbound.ttfb_ns"] <= span.duration_ns
    assert attrs["outbound.body_read_ns"] >= 0
    assert "sekrit" not in trace.to_json() and "42" not in attrs["url.full"]
    assert_well_formed(trace)
    assert check(trace) == []


async def test_the_traceparent_names_the_call_span_and_is_taken_off_again() -> None:
    app = FastAPI()
    sent: list[httpx.Request] = []

    @app.get("/call")
    async def call() -> Any:
        async with client() as c:
            built = c.build_request("GET", "/stock/1")
            sent.append(built)
            response = await c.send(built)
        return response.json()["headers"]

    response, trace = await request(app, "GET", "/call")
    (span,) = outbound(trace)
    assert response.json()["traceparent"] == f"00-{trace.trace_id}-{span.span_id}-01"
    assert span.attributes["outbound.propagated"] is True
    assert "traceparent" not in sent[0].headers  # the app's request object is as it built it
    assert "trace" not in sent[0].extensions


async def test_an_existing_traceparent_is_kept() -> None:
    theirs = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    app = FastAPI()

    @app.get("/call")
    async def call() -> Any:
        async with client() as c:
            response = await c.get("/stock/1", headers={"traceparent": theirs})
        return response.json()["headers"]

    response, trace = await request(app, "GET", "/call")
    assert response.json()["traceparent"] == theirs
    assert "outbound.propagated" not in outbound(trace)[0].attributes


async def test_propagate_false_sends_no_traceparent() -> None:
    app = app_calling("/stock/1")
    tracer.instrument(app, propagate=False, record_url_values=True)
    response, trace = await request(app, "GET", "/call")
    assert "traceparent" not in response.json()["body"]["headers"]
    assert len(outbound(trace)) == 1


async def test_an_error_answer_marks_the_span_failed() -> None:
    response, trace = await request(app_calling("/down"), "GET", "/call")
    assert response.status_code == 500 or response.json()["status"] == 500
    (span,) = outbound(trace)
    assert span.status == "error"
    assert span.attributes["http.response.status_code"] == 500
    assert span.attributes["error.type"] == "500"


async def test_a_timeout_is_recorded_and_raised_unchanged() -> None:
    caught: list[BaseException] = []

    def slow_transport(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    app = FastAPI()

    @app.get("/call")
    async def call_mock() -> str:
        async with httpx.AsyncClient(transport=httpx.MockTransport(slow_transport)) as c:
            try:
                await c.get("http://pricing.internal/prices/7")
            except httpx.TimeoutException as exc:
                caught.append(exc)
        return "fallback"

    response, trace = await request(app, "GET", "/call")
    assert response.json() == "fallback"
    assert isinstance(caught[0], httpx.ReadTimeout)
    (span,) = outbound(trace)
    assert span.status == "error"
    assert span.attributes["error.type"] == "ReadTimeout"
    assert span.attributes["outbound.timeout"] is True
    assert [e.attributes["exception.type"] for e in span.events] == ["ReadTimeout"]


async def test_a_connection_error_is_recorded() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    app = FastAPI()

    @app.get("/call")
    async def call() -> str:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refused)) as c:
            try:
                await c.get("http://pricing.internal/prices/7")
            except httpx.ConnectError:
                return "down"
        return "up"

    response, trace = await request(app, "GET", "/call")
    assert response.json() == "down"
    (span,) = outbound(trace)
    assert span.attributes["error.type"] == "ConnectError"
    assert "outbound.timeout" not in span.attributes


async def test_a_sync_client_in_a_def_endpoint() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("traceparent", ""))
        return httpx.Response(200, json={"ok": True})

    app = FastAPI()

    @app.get("/call")
    def call() -> Any:
        with httpx.Client(transport=httpx.MockTransport(handler)) as c:
            return c.post("http://billing.internal/charges", json={"cents": 5}).json()

    response, trace = await request(app, "GET", "/call")
    assert response.json() == {"ok": True}
    (span,) = outbound(trace)
    assert span.name == "POST billing.internal/charges"
    assert parent_of(trace, span).name == "call"
    assert span.attributes["http.request.body.size"] == len(b'{"cents":5}')
    assert seen == [f"00-{trace.trace_id}-{span.span_id}-01"]
    assert check(trace) == []


async def test_a_streamed_response_is_timed_to_its_headers() -> None:
    app = FastAPI()

    @app.get("/call")
    async def call() -> int:
        async with client() as c, c.stream("GET", "/stock/3") as response:
            return len(await response.aread())

    _, trace = await request(app, "GET", "/call")
    (span,) = outbound(trace)
    assert span.attributes["outbound.streamed"] is True
    assert "outbound.body_read_ns" not in span.attributes


async def test_parallel_calls_overlap_and_are_counted_once() -> None:
    app = FastAPI()

    @app.get("/call")
    async def call() -> int:
        async with client() as c:
            answers = await asyncio.gather(
                c.get("/stock/1", params={"delay": "0.02"}),
                c.get("/stock/2", params={"delay": "0.02"}),
            )
        return len(answers)

    _, trace = await request(app, "GET", "/call")
    first, second = outbound(trace)
    assert second.start_ns < first.end_ns  # overlapping intervals
    assert parent_of(trace, first).name == parent_of(trace, second).name == "call"
    index = analyse(trace)
    assert sum(index.step_ns.values()) + index.untraced_ns == trace.root.duration_ns
    assert check(trace) == []


async def test_a_callee_in_this_process_is_not_recorded_into_the_caller() -> None:
    _, trace = await request(app_calling("/stock/5"), "GET", "/call")
    assert "stock" not in names(trace, "handler")  # the service's endpoint is its own trace
    assert find(trace, "call").phase == "handler"


async def test_untraced_calls_are_left_alone() -> None:
    async with client() as c:
        response = await c.get("/stock/9")
    assert "traceparent" not in response.json()["headers"]


def test_url_template_hides_values() -> None:
    assert url_template("https://u:p@api.example:8443/users/123/orders?page=2#x") == (
        "https://…@api.example:8443/users/…/orders?page=…"
    )
    uuid = "2f1e8b2c-5d7a-4c1e-9d1b-3a4f5e6d7c8b"
    assert url_template(f"http://svc/items/{uuid}/price") == "http://svc/items/…/price"
    assert url_template("http://svc/v2/search") == "http://svc/v2/search"
