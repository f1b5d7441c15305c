"""What a Jaeger or Tempo user sees: span names, kinds and attributes against the conventions.

The demo app runs in-process with a real SQLite database; its spans reach the
SDK's in-memory exporter through a ``TracerProvider`` and are checked against
explicit lists (HTTP server span, database client spans, our own prefix).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import tracer
from tracer.demo_app.main import create_app
from tracer.model import Trace
from tracer.sinks.exporters import _semconv, from_otlp_json, to_otlp_json

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
#: Keys a span of ours may carry outside the ``trace_request.`` prefix.
SERVER_KEYS = {
    "http.request.method",
    "http.route",
    "http.response.status_code",
    "url.path",
    "url.query",
    "url.scheme",
    "network.protocol.version",
    "server.address",
    "server.port",
    "client.address",
    "user_agent.original",
    "error.type",
}
DB_KEYS = {
    "db.system.name",
    "db.query.text",
    "db.operation.name",
    "db.collection.name",
    "db.namespace",
    "server.address",
    "server.port",
    "error.type",
}
OTHER_KEYS = {"error.type", "code.function.name"}


def _run(
    requests: Sequence[tuple[str, str, dict[str, Any]]],
) -> tuple[list[httpx.Response], list[Trace], Sequence[ReadableSpan]]:
    """Send requests to a fresh demo app (its own database): responses, traces, exported spans."""
    app = create_app()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer.instrument(app, tracer_provider=provider, store=False)

    async def drive() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        client = httpx.AsyncClient(transport=transport, base_url="http://api.test")
        async with app.router.lifespan_context(app), client as c:
            return [await c.request(m, path, **kw) for m, path, kw in requests]

    with tracer.capture(app) as traces:
        responses = asyncio.run(drive())
    return responses, traces.traces, exporter.get_finished_spans()


@pytest.fixture(scope="module")
def demo() -> tuple[list[httpx.Response], list[Trace], Sequence[ReadableSpan]]:
    """POST /users (DB work), a 404, a 500 and a request continuing a caller's trace."""
    sign_up = {"email": "ada@example.com", "password": "correct-horse"}
    client = {"user-agent": "semconv-test/1.0", "x-forwarded-for": "203.0.113.9, 10.0.0.1"}
    caller = {
        "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
        "tracestate": "congo=t61rcWkgMzE",
    }
    return _run(
        [
            ("POST", "/users", {"json": sign_up, "headers": client}),
            ("GET", "/no/such/page", {}),
            ("GET", "/boom", {}),
            ("GET", "/health", {"headers": caller}),
        ]
    )


def _of(trace: Trace, spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    root_id = trace.root.span_id
    by_trace = [
        s for s in spans if s.context is not None and f"{s.context.span_id:016x}" == root_id
    ]
    (root,) = by_trace
    assert root.context is not None
    ours = [
        s for s in spans if s.context is not None and s.context.trace_id == root.context.trace_id
    ]
    return sorted(ours, key=lambda s: s.start_time or 0)


def _server(spans: list[ReadableSpan]) -> ReadableSpan:
    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    return server


def _standard(span: ReadableSpan) -> dict[str, Any]:
    return {k: v for k, v in (span.attributes or {}).items() if not k.startswith("trace_request.")}


def test_post_users_server_span(demo: Any) -> None:
    responses, traces, spans = demo
    assert responses[0].status_code == 201
    server = _server(_of(traces[0], spans))
    assert server.name == "POST /users"
    assert server.parent is None
    assert _standard(server) == {
        "http.request.method": "POST",
        "http.route": "/users",
        "url.path": "/users",
        "url.scheme": "http",
        "http.response.status_code": 201,
        "network.protocol.version": "1.1",
        "server.address": "api.test",
        "server.port": 80,
        "client.address": "203.0.113.9",
        "user_agent.original": "semconv-test/1.0",
    }
    ours = {k for k in server.attributes or {} if k.startswith("trace_request.")}
    assert {
        "trace_request.lifecycle.phase",
        "trace_request.lifecycle.step",
        "trace_request.response_origin",
        "trace_request.response_ns",
        "trace_request.request",
        "trace_request.response",
        "trace_request.meta",
    } <= ours
    # the x-trace-id the client saw is the trace id the backend shows
    assert server.context is not None
    assert f"{server.context.trace_id:032x}" == responses[0].headers["x-trace-id"]


def test_post_users_database_spans(demo: Any) -> None:
    _, traces, spans = demo
    clients = [s for s in _of(traces[0], spans) if s.kind is SpanKind.CLIENT]
    expected = [
        ("SELECT users", "SELECT", "users"),
        ("INSERT users", "INSERT", "users"),
        ("COMMIT", "COMMIT", None),
        ("SELECT users", "SELECT", "users"),
        ("INSERT outbox", "INSERT", "outbox"),
        ("COMMIT", "COMMIT", None),
        ("COMMIT", "COMMIT", None),
    ]
    assert [(s.name, _standard(s)["db.operation.name"]) for s in clients] == [
        (name, op) for name, op, _ in expected
    ]
    for span, (_, operation, table) in zip(clients, expected, strict=True):
        attributes = _standard(span)
        assert attributes["db.system.name"] == "sqlite"
        assert attributes.get("db.collection.name") == table
        if operation == "COMMIT":
            assert "db.query.text" not in attributes
        else:
            text = str(attributes["db.query.text"])
            assert text.startswith(operation) and "?" in text  # the template, never values
            assert "ada@example.com" not in text
        assert set(attributes) <= DB_KEYS
    insert = clients[1].attributes or {}
    assert insert["trace_request.db.rowcount"] == 1
    others = [s for s in _of(traces[0], spans) if s.kind is SpanKind.INTERNAL]
    assert {s.name for s in others} >= {"pool checkout", "create_user", "router"}
    for span in others:
        assert set(_standard(span)) <= OTHER_KEYS, span.name
    handler = next(s for s in others if s.name == "create_user")
    assert _standard(handler) == {"code.function.name": "create_user"}


def test_unmatched_request_is_named_by_its_method(demo: Any) -> None:
    responses, traces, spans = demo
    assert responses[1].status_code == 404
    server = _server(_of(traces[1], spans))
    assert server.name == "GET"
    assert _standard(server) == {
        "http.request.method": "GET",
        "url.path": "/…/…/…",  # only the shape of a path no route matched
        "url.scheme": "http",
        "http.response.status_code": 404,
        "network.protocol.version": "1.1",
        "server.address": "api.test",
        "server.port": 80,
        "user_agent.original": f"python-httpx/{httpx.__version__}",
    }
    assert server.status.status_code is not StatusCode.ERROR  # 4xx is the client's error


def test_server_error_has_error_type_and_status(demo: Any) -> None:
    responses, traces, spans = demo
    assert responses[2].status_code == 500
    server = _server(_of(traces[2], spans))
    assert server.name == "GET /boom"
    assert server.status.status_code is StatusCode.ERROR
    attributes = _standard(server)
    assert attributes["error.type"] == "RuntimeError"
    assert attributes["http.response.status_code"] == 500
    assert attributes["http.route"] == "/boom"


def test_continued_traceparent(demo: Any) -> None:
    responses, traces, spans = demo
    response, trace = responses[3], traces[3]
    assert response.status_code == 200
    assert trace.trace_id == CALLER_TRACE
    assert response.headers["x-trace-id"] == CALLER_TRACE
    assert response.headers["traceparent"].split("-")[1] == CALLER_TRACE
    assert trace.meta["traceparent"] == f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
    assert trace.meta["tracestate"] == "congo=t61rcWkgMzE"
    exported = _of(trace, spans)
    server = _server(exported)
    assert server.name == "GET /health"
    assert server.parent is not None
    assert server.parent.is_remote
    assert f"{server.parent.span_id:016x}" == CALLER_SPAN
    assert {f"{s.context.trace_id:032x}" for s in exported if s.context} == {CALLER_TRACE}
    assert server.context is not None
    assert server.context.trace_state.get("congo") == "t61rcWkgMzE"

    doc = to_otlp_json(trace)
    (root,) = [s for s in doc["resourceSpans"][0]["scopeSpans"][0]["spans"] if s["kind"] == 2]
    assert root["parentSpanId"] == CALLER_SPAN
    assert root["traceState"] == "congo=t61rcWkgMzE"
    (back,) = from_otlp_json(doc)
    assert back.to_dict() == trace.to_dict()


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_every_attribute_is_standard_or_prefixed(demo: Any, index: int) -> None:
    _, traces, spans = demo
    for span in _of(traces[index], spans):
        allowed = {
            SpanKind.SERVER: SERVER_KEYS,
            SpanKind.CLIENT: DB_KEYS,
            SpanKind.INTERNAL: OTHER_KEYS,
        }[span.kind]
        assert set(_standard(span)) <= allowed, (span.name, _standard(span))


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_demo_traces_round_trip_through_otlp_json(demo: Any, index: int) -> None:
    _, traces, _ = demo
    (back,) = from_otlp_json(to_otlp_json(traces[index]))
    assert back.to_dict() == traces[index].to_dict()


def test_mapping_details_round_trip(ok_trace: Trace) -> None:
    root = ok_trace.root
    root.attributes.update({"http.request.method": "PURGE", "http.response.status_code": 503})
    ok_trace.request["headers"] = {"host": "[::1]:8443", "user-agent": "[redacted]"}
    ok_trace.request["scheme"] = "https"
    ok_trace.by_id()["a000000000000005"].attributes["db.system"] = "mssql"
    doc = to_otlp_json(ok_trace)
    spans = {s["name"]: s for s in doc["resourceSpans"][0]["scopeSpans"][0]["spans"]}
    server = {a["key"]: a["value"] for a in spans["HTTP /users"]["attributes"]}
    assert server["http.request.method"] == {"stringValue": "_OTHER"}
    assert server["http.request.method_original"] == {"stringValue": "PURGE"}
    assert server["error.type"] == {"stringValue": "503"}  # a 5xx without an exception
    assert server["server.address"] == {"stringValue": "::1"}
    assert server["server.port"] == {"intValue": "8443"}
    assert "user_agent.original" not in server  # a redacted header is not a user agent
    select = {a["key"]: a["value"] for a in spans["SELECT users"]["attributes"]}
    assert select["db.system.name"] == {"stringValue": "microsoft.sql_server"}
    assert spans["SELECT users"]["kind"] == 3
    (back,) = from_otlp_json(doc)
    assert back.to_dict() == ok_trace.to_dict()


def test_legacy_unprefixed_files_still_read(ok_trace: Trace) -> None:
    doc = to_otlp_json(ok_trace)
    for span in doc["resourceSpans"][0]["scopeSpans"][0]["spans"]:
        for attribute in span["attributes"]:
            if attribute["key"].startswith("trace_request.lifecycle."):
                attribute["key"] = attribute["key"].removeprefix("trace_request.")
    (back,) = from_otlp_json(doc)
    assert [(s.phase, s.step) for s in back.spans] == [(s.phase, s.step) for s in ok_trace.spans]


def test_every_native_trace_request_key_is_known() -> None:
    """A new ``trace_request.*`` attribute in the model must be listed, or it reads back wrong."""
    root = Path(tracer.__file__).parent
    found = set()
    for path in root.rglob("*.py"):
        found |= set(re.findall(r"[\"'](trace_request\.[a-z_]+)[\"']", path.read_text()))
    found -= {_semconv.NAME_KEY, "trace_request.lifecycle"}
    assert found <= _semconv.NATIVE_KEYS, found - _semconv.NATIVE_KEYS


def test_an_outbound_call_is_an_http_client_span_with_the_standard_keys() -> None:
    responses, traces, spans = _run([("GET", "/quote/42", {})])
    assert responses[0].status_code == 200
    calls = [s for s in spans if s.attributes.get("trace_request.lifecycle.phase") == "outbound"]
    assert calls, [s.name for s in spans]
    for call in calls:
        assert call.kind is SpanKind.CLIENT
        attributes = dict(call.attributes or {})
        assert attributes["http.request.method"] == "GET"
        assert attributes["http.response.status_code"] == 200
        assert attributes["server.address"].endswith(".internal")
        assert "url.full" in attributes and "?" not in attributes["url.full"]
        assert "trace_request.url.full" not in attributes
    # and back: the OTLP JSON of the trace reads into the same attributes
    [trace] = traces
    [again] = from_otlp_json(to_otlp_json(trace))
    outbound = [s for s in trace.spans if s.phase == "outbound"]
    assert [s.attributes for s in again.spans if s.phase == "outbound"] == [
        s.attributes for s in outbound
    ]
