"""Spans reach the user's TracerProvider, and nest under an existing server span."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

import tracer
from tests.tracer.helpers import FASTAPI_VERSION, request

pytestmark = pytest.mark.anyio


def provider_and_exporter() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def make_app(**kwargs: Any) -> FastAPI:
    app = FastAPI(**kwargs)

    @app.get("/users/{user_id}")
    async def read_user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    return app


async def test_spans_are_exported_with_phase_step_and_parents() -> None:
    provider, exporter = provider_and_exporter()
    app = tracer.instrument(make_app(), tracer_provider=provider)
    _, trace = await request(app, "GET", "/users/3")
    spans = exporter.get_finished_spans()
    assert len(spans) == len(trace.spans)
    server = [s for s in spans if s.kind == SpanKind.SERVER]
    assert [s.name for s in server] == ["GET /users/{user_id}"]
    by_id = {s.context.span_id: s for s in spans}
    handler = next(s for s in spans if s.name == "read_user")
    assert handler.attributes is not None
    assert handler.attributes["trace_request.lifecycle.phase"] == "handler"
    assert handler.attributes["trace_request.lifecycle.step"] == 6
    assert handler.parent is not None
    assert by_id[handler.parent.span_id].name == "route /users/{user_id}"
    assert {s.context.trace_id for s in spans} == {server[0].context.trace_id}


async def test_nests_under_opentelemetry_instrumentation_fastapi_without_a_second_server_span() -> (
    None
):
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    provider, exporter = provider_and_exporter()
    app = make_app()
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    try:
        tracer.instrument(app, tracer_provider=provider)
        response, _ = await request(app, "GET", "/users/3")
        assert response.json() == {"id": 3}
    finally:
        FastAPIInstrumentor.uninstrument_app(app)
    spans = exporter.get_finished_spans()
    servers = [s for s in spans if s.kind == SpanKind.SERVER]
    assert len(servers) == 1, [s.name for s in servers]
    ours = next(
        s
        for s in spans
        if s.attributes
        and s.attributes.get("trace_request.lifecycle.step") == 1
        and s.attributes.get("trace_request.lifecycle.phase") == "asgi"
        and s.parent is not None
        and s.kind == SpanKind.INTERNAL
        and s.name.startswith("GET")
    )
    assert ours.parent is not None
    assert ours.parent.span_id == servers[0].context.span_id
    assert ours.context.trace_id == servers[0].context.trace_id


@pytest.mark.skipif(
    FASTAPI_VERSION < (0, 142), reason="FastAPI's built-in telemetry arrived in 0.142"
)
async def test_nests_under_fastapi_builtin_telemetry() -> None:
    provider, exporter = provider_and_exporter()
    app = make_app(telemetry={"tracer_provider": provider})
    tracer.instrument(app, tracer_provider=provider)
    response, _ = await request(app, "GET", "/users/5")
    assert response.json() == {"id": 5}
    spans = exporter.get_finished_spans()
    servers = [s for s in spans if s.kind == SpanKind.SERVER]
    assert len(servers) == 1, [(s.name, s.instrumentation_scope.name) for s in servers]
    assert servers[0].instrumentation_scope.name != "trace_request"
    ours = [s for s in spans if s.instrumentation_scope.name == "trace_request"]
    assert ours
    assert {s.context.trace_id for s in ours} == {servers[0].context.trace_id}


async def test_global_provider_is_the_default_and_false_opts_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import opentelemetry.trace

    provider, exporter = provider_and_exporter()
    monkeypatch.setattr(opentelemetry.trace, "get_tracer_provider", lambda: provider)
    app = tracer.instrument(make_app(), store=False)
    await request(app, "GET", "/users/1")
    scopes = {s.instrumentation_scope.name for s in exporter.get_finished_spans()}
    assert "trace_request" in scopes
    exporter.clear()
    opted_out = tracer.instrument(make_app(), tracer_provider=False, store=False)
    await request(opted_out, "GET", "/users/1")
    # FastAPI's own telemetry may use the global provider; trace-request must not
    scopes = {s.instrumentation_scope.name for s in exporter.get_finished_spans()}
    assert "trace_request" not in scopes
    assert scopes <= {"fastapi"}, scopes
