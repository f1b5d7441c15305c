"""The global TracerProvider is the default destination; the OTLP variables never duplicate it."""

from __future__ import annotations

import asyncio
import inspect
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.util._once import Once

import tracer
from tracer.sinks.exporters.otlp_env import OTLPSink
from tracer.sinks.exporters.propagation import configured_global_provider
from tracer.sinks.store import TraceStore

HAS_TELEMETRY = "telemetry" in inspect.signature(FastAPI).parameters


def _reset_globals() -> None:
    """What opentelemetry-test-utils' reset_trace_globals does: set_tracer_provider works once."""
    trace_api._TRACER_PROVIDER_SET_ONCE = Once()  # type: ignore[attr-defined]
    trace_api._TRACER_PROVIDER = None  # type: ignore[attr-defined]
    trace_api._PROXY_TRACER_PROVIDER = trace_api.ProxyTracerProvider()  # type: ignore[attr-defined]


@pytest.fixture
def global_exporter() -> Iterator[InMemorySpanExporter]:
    """A real global SDK provider (``trace.set_tracer_provider``) with an in-memory exporter."""
    _reset_globals()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace_api.set_tracer_provider(provider)
    try:
        yield exporter
    finally:
        _reset_globals()


@pytest.fixture
def no_global() -> Iterator[None]:
    _reset_globals()
    yield
    _reset_globals()


@pytest.fixture(autouse=True)
def _no_otlp_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)


def _app(**kwargs: Any) -> FastAPI:
    app = FastAPI(**kwargs)

    @app.get("/users/{user_id}")
    async def read_user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    return app


def _get(app: FastAPI, path: str = "/users/3") -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get(path)

    return asyncio.run(call())


def _ours(spans: tuple[ReadableSpan, ...]) -> list[ReadableSpan]:
    return [
        s
        for s in spans
        if s.instrumentation_scope and s.instrumentation_scope.name == "trace_request"
    ]


def test_unconfigured_api_providers_are_not_configured(no_global: None) -> None:
    assert isinstance(trace_api.get_tracer_provider(), trace_api.ProxyTracerProvider)
    assert configured_global_provider() is None
    trace_api.set_tracer_provider(trace_api.NoOpTracerProvider())
    assert configured_global_provider() is None


def test_global_provider_receives_our_spans_with_no_argument(
    global_exporter: InMemorySpanExporter,
) -> None:
    app = tracer.instrument(_app(telemetry={"tracing": False}) if HAS_TELEMETRY else _app())
    state = app._trace_request_instrumentation
    assert state.tracer_provider is trace_api.get_tracer_provider()
    # an exporter is configured, so the local store stays off unless asked for
    assert not any(isinstance(s, TraceStore) for s in state.sinks)
    response = _get(app)
    ours = _ours(global_exporter.get_finished_spans())
    assert [s.name for s in ours if s.kind is SpanKind.SERVER] == ["GET /users/{user_id}"]
    assert len(ours) > 5
    # the SDK provider keeps the recorded ids: x-trace-id finds the trace in the backend
    assert {f"{s.context.trace_id:032x}" for s in ours if s.context} == {
        response.headers["x-trace-id"]
    }


def test_no_duplicates_when_otlp_variables_are_also_set(
    global_exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # opentelemetry-instrument reads these into the global provider's exporter
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    app = tracer.instrument(_app(telemetry={"tracing": False}) if HAS_TELEMETRY else _app())
    assert not any(isinstance(s, OTLPSink) for s in app._trace_request_instrumentation.sinks)
    _get(app)
    ours = _ours(global_exporter.get_finished_spans())
    ids = [s.context.span_id for s in ours if s.context]
    assert len(ids) == len(set(ids))
    assert [s.kind for s in ours].count(SpanKind.SERVER) == 1


def test_a_provider_set_after_instrument_is_adopted_and_the_otlp_sink_dropped(
    no_global: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    app = tracer.instrument(_app(telemetry={"tracing": False}) if HAS_TELEMETRY else _app())
    state = app._trace_request_instrumentation
    (sink,) = [s for s in state.sinks if isinstance(s, OTLPSink)]
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace_api.set_tracer_provider(provider)  # e.g. in a lifespan start-up
    _get(app)
    assert state.tracer_provider is provider
    assert sink not in state.sinks
    assert _ours(exporter.get_finished_spans())
    sink.shutdown(timeout_millis=0)


def test_explicit_provider_wins_and_false_opts_out(global_exporter: InMemorySpanExporter) -> None:
    exporter = InMemorySpanExporter()
    mine = TracerProvider()
    mine.add_span_processor(SimpleSpanProcessor(exporter))
    app = tracer.instrument(_app(), tracer_provider=mine, store=False)
    _get(app)
    assert _ours(exporter.get_finished_spans())
    assert not _ours(global_exporter.get_finished_spans())

    opted_out = tracer.instrument(_app(), tracer_provider=False, store=False)
    state = opted_out._trace_request_instrumentation
    assert state.tracer_provider is None
    assert not state.follow_global
    _get(opted_out)
    assert not _ours(global_exporter.get_finished_spans())


@pytest.mark.skipif(not HAS_TELEMETRY, reason="FastAPI's built-in telemetry arrived in 0.142")
def test_coexists_with_fastapi_telemetry_switched_on_by_the_global_provider(
    global_exporter: InMemorySpanExporter,
) -> None:
    app = tracer.instrument(_app())
    response = _get(app)
    assert response.json() == {"id": 3}
    finished = global_exporter.get_finished_spans()
    servers = [s for s in finished if s.kind is SpanKind.SERVER]
    assert len(servers) == 1, [(s.name, s.instrumentation_scope) for s in servers]
    assert servers[0].instrumentation_scope is not None
    assert servers[0].instrumentation_scope.name != "trace_request"
    ours = _ours(finished)
    root = next(s for s in ours if s.name == "GET /users/{user_id}")
    assert root.kind is SpanKind.INTERNAL
    assert root.parent is not None
    assert root.parent.span_id == servers[0].context.span_id
    assert {s.context.trace_id for s in ours} == {servers[0].context.trace_id}


@pytest.mark.parametrize("import_api", [False, True])
def test_no_global_provider_keeps_the_sdk_unloaded(import_api: bool) -> None:
    code = (
        "import sys; from fastapi import FastAPI; import tracer; "
        + ("import opentelemetry.trace; " if import_api else "")
        + "tracer.instrument(FastAPI(), store=False); "
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry.sdk')))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[]"


def test_traceparent_is_continued_only_when_spans_go_to_opentelemetry(no_global: None) -> None:
    header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    def get(app: FastAPI) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.get("/users/3", headers={"traceparent": header})

        return asyncio.run(call())

    # the local store only: our own ids (nothing to join; nothing for a caller to collide)
    local = get(tracer.instrument(_app(), store=False))
    assert local.headers["x-trace-id"] != header.split("-")[1]
    exported = get(tracer.instrument(_app(), tracer_provider=TracerProvider(), store=False))
    assert exported.headers["x-trace-id"] == header.split("-")[1]
