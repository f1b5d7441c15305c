"""Phase inference against spans the real instrumentations produce (not hand-written ones).

The spans are written out as OTLP/JSON the way a Collector would receive them
and read back with :func:`from_otlp_json`, so a change in the span names or
attributes of opentelemetry-instrumentation-fastapi or FastAPI's built-in
telemetry shows up here.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import MutableMapping, Sequence
from typing import Any

import pytest
from fastapi import BackgroundTasks, Depends, FastAPI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tracer.model import Trace
from tracer.sinks.exporters import from_otlp_json


def _any_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [_any_value(v) for v in value]}}
    return {"stringValue": str(value)}


def _as_otlp_json(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """The subset of the OTLP/JSON encoding a Collector file exporter writes for these spans."""
    out = []
    for span in spans:
        assert span.context is not None
        data: dict[str, Any] = {
            "traceId": format(span.context.trace_id, "032x"),
            "spanId": format(span.context.span_id, "016x"),
            "name": span.name,
            "kind": span.kind.value + 1,  # the SDK's enum starts at INTERNAL=0, OTLP's at 1
            "startTimeUnixNano": str(span.start_time),
            "endTimeUnixNano": str(span.end_time),
            "attributes": [
                {"key": k, "value": _any_value(v)} for k, v in (span.attributes or {}).items()
            ],
            "status": {"code": span.status.status_code.value},
        }
        if span.parent is not None:
            data["parentSpanId"] = format(span.parent.span_id, "016x")
        out.append(data)
    return {"resourceSpans": [{"scopeSpans": [{"spans": out}]}]}


def _app(**kwargs: Any) -> FastAPI:
    app = FastAPI(**kwargs)

    def get_settings() -> int:
        return 1

    def notify() -> None:
        pass

    @app.post("/users")
    async def create_user(
        tasks: BackgroundTasks, settings: int = Depends(get_settings)
    ) -> dict[str, int]:
        tasks.add_task(notify)
        return {"id": settings}

    return app


def _post(app: FastAPI) -> None:
    """One POST /users?x=1 straight through ASGI (no HTTP client needed)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/users",
        "raw_path": b"/users",
        "root_path": "",
        "query_string": b"x=1",
        "headers": [(b"host", b"testserver"), (b"content-length", b"0")],
        "client": ("testclient", 50000),
        "server": ("testserver", 80),
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200


def _record(app_factory: Any) -> Trace:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    _post(app_factory(provider))
    (trace,) = from_otlp_json(_as_otlp_json(exporter.get_finished_spans()))
    return trace


def _phases(trace: Trace) -> list[tuple[str, str, int]]:
    return [(s.name, s.phase, s.step) for s in trace.spans]


def test_opentelemetry_instrumentation_fastapi() -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    def factory(provider: TracerProvider) -> FastAPI:
        app = _app()
        FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
        return app

    trace = _record(factory)
    phases = _phases(trace)
    assert phases[0] == ("POST /users", "asgi", 1)
    assert ("POST /users http send", "send", 9) in phases
    assert [p for p in phases if "notify" in p[0]] == [("BackgroundTask notify", "background", 10)]
    assert trace.request == {"method": "POST", "path": "/users", "query": "x=1"}
    assert trace.response == {"status_code": 200}
    sends = [s for s in trace.spans if s.phase == "send"]
    assert trace.response_end_ns == max(s.end_ns for s in sends)


@pytest.mark.skipif(
    "telemetry" not in inspect.signature(FastAPI).parameters,
    reason="FastAPI's built-in telemetry needs FastAPI 0.142+",
)
def test_fastapi_builtin_telemetry() -> None:
    trace = _record(lambda provider: _app(telemetry={"tracer_provider": provider}))
    assert _phases(trace) == [
        ("POST /users", "asgi", 1),
        ("fastapi.dependencies", "dependency", 4),
        ("fastapi.endpoint", "handler", 6),
        ("fastapi.serialization", "serialization", 7),
        ("fastapi.background_task", "background", 10),
    ]
    assert trace.request == {"method": "POST", "path": "/users", "query": "x=1"}
    assert trace.response == {"status_code": 200}
