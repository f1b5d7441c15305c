"""Sample traces built inline, shaped like the recorder's output (see docs/trace-model.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tracer.model import Span, SpanEvent, Trace
from tracer.sinks.exporters import _common

T0 = 1_700_000_000_000_000_000
US = 1_000


def _span(
    span_id: str,
    parent_id: str | None,
    name: str,
    phase: str,
    step: int,
    start_us: int,
    end_us: int,
    **attributes: object,
) -> Span:
    return Span.from_dict(
        {
            "span_id": span_id,
            "parent_id": parent_id,
            "name": name,
            "phase": phase,
            "step": step,
            "start_ns": T0 + start_us * US,
            "end_ns": T0 + end_us * US,
            "attributes": dict(attributes),
        }
    )


def make_ok_trace() -> Trace:
    """POST /users: middleware, routing, a dependency with a query, handler, send, background."""
    spans = [
        _span(
            "a000000000000001",
            None,
            "POST /users",
            "asgi",
            1,
            0,
            900,
            **{
                "http.request.method": "POST",
                "url.path": "/users",
                "http.route": "/users",
                "http.response.status_code": 201,
                "trace_request.response_ns": 700_000,
            },
        ),
        _span(
            "a000000000000002",
            "a000000000000001",
            "CORSMiddleware",
            "middleware",
            2,
            10,
            890,
            **{"middleware.class": "CORSMiddleware", "middleware.depth": 0},
        ),
        _span(
            "a000000000000003",
            "a000000000000002",
            "router",
            "routing",
            3,
            20,
            880,
            **{"http.route": "/users", "routing.endpoint": "create_user"},
        ),
        _span(
            "a000000000000004",
            "a000000000000003",
            "get_db",
            "dependency",
            4,
            30,
            120,
            **{"dependency.kind": "async_generator", "dependency.cached": False},
        ),
        _span(
            "a000000000000005",
            "a000000000000004",
            "SELECT users",
            "db",
            4,
            40,
            100,
            **{
                "db.system": "sqlite",
                "db.statement": "SELECT * FROM users WHERE id = ?",
                "db.rowcount": 1,
            },
        ),
        _span(
            "a000000000000006",
            "a000000000000003",
            "validate body",
            "validation",
            5,
            130,
            160,
            **{
                "validation.source": "body",
                "validation.fields": ["name", "email"],
                "validation.error_count": 0,
            },
        ),
        _span(
            "a000000000000007",
            "a000000000000003",
            "create_user",
            "handler",
            6,
            170,
            500,
            **{"handler.kind": "async", "code.function": "create_user"},
        ),
        _span(
            "a000000000000008",
            "a000000000000007",
            "INSERT users",
            "db",
            6,
            200,
            450,
            **{"db.system": "sqlite", "db.operation": "INSERT", "db.rowcount": 1},
        ),
        _span(
            "a000000000000009",
            "a000000000000001",
            "send http.response.body",
            "send",
            9,
            680,
            700,
            **{"body.bytes": 42, "more_body": False, "response.complete": True},
        ),
        _span(
            "a00000000000000a",
            "a000000000000003",
            "send_welcome_email",
            "background",
            10,
            710,
            870,
            **{"code.function": "send_welcome_email", "background.after_response": True},
        ),
    ]
    return Trace(
        trace_id="0af7651916cd43dd8448eb211c80319c",
        spans=spans,
        request={
            "method": "POST",
            "path": "/users",
            "query": "",
            "headers": {"content-type": "application/json", "authorization": "[redacted]"},
            "body_excerpt": '{"name": "Ada"}',
        },
        response={"status_code": 201, "headers": {"content-type": "application/json"}},
        response_end_ns=T0 + 700 * US,
        meta={"app": "tracer.demo_app.main:app", "dropped_spans": 0},
    )


def make_error_trace() -> Trace:
    """GET /boom: the handler raises, ServerErrorMiddleware turns it into a 500."""
    root = _span(
        "b000000000000001",
        None,
        "GET /boom",
        "asgi",
        1,
        0,
        300,
        **{"http.request.method": "GET", "url.path": "/boom", "http.response.status_code": 500},
    )
    root.status = "error"
    root.attributes["error.type"] = "RuntimeError"
    middleware = _span(
        "b000000000000002",
        "b000000000000001",
        "ServerErrorMiddleware",
        "middleware",
        2,
        5,
        290,
        **{"error.type": "RuntimeError", "middleware.depth": 0},
    )
    middleware.status = "error"
    handler = _span(
        "b000000000000003",
        "b000000000000002",
        "boom",
        "handler",
        6,
        20,
        60,
        **{"handler.kind": "sync", "threadpool.wait_ns": 1500},
    )
    handler.status = "error"
    handler.events.append(
        SpanEvent(
            "exception",
            T0 + 55 * US,
            {"exception.type": "RuntimeError", "exception.message": "kaboom"},
        )
    )
    unset = _span("b000000000000004", "b000000000000002", "log", "handler", 6, 61, 62)
    unset.status = "unset"
    return Trace(
        trace_id="1bf7651916cd43dd8448eb211c80319d",
        spans=[root, middleware, handler, unset],
        request={"method": "GET", "path": "/boom"},
        response={"status_code": 500, "headers": {}},
        response_end_ns=None,
        meta={},
    )


@pytest.fixture
def ok_trace() -> Trace:
    return make_ok_trace()


@pytest.fixture
def error_trace() -> Trace:
    return make_error_trace()


@pytest.fixture(autouse=True)
def _fresh_reports() -> Iterator[None]:
    """Each test sees export failures logged afresh (they are logged once per kind)."""
    _common._reported.clear()
    yield
    _common._reported.clear()
