"""Embedding options: sampling, always-trace-errors, the trigger header, limits, redaction."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Header
from sqlalchemy import create_engine, text
from sqlalchemy.pool import StaticPool

import tracer
from tests.tracer.helpers import exception_event, find
from tracer.capture.trigger import trigger_token, verify_token

pytestmark = pytest.mark.anyio


def make_app() -> FastAPI:
    app = FastAPI()
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )

    @app.get("/ok")
    async def ok(x_api_key: str | None = Header(None)) -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    @app.get("/five-hundred")
    async def five_hundred() -> Any:
        from fastapi.responses import PlainTextResponse

        return PlainTextResponse("down", status_code=503)

    @app.get("/sql")
    def sql() -> dict[str, int]:
        with engine.connect() as conn:
            long_name = "x" * 5000
            row = conn.execute(
                text(f"SELECT :password AS p, :user AS u, '{long_name}' AS pad"),
                {"password": "hunter2-in-sql", "user": "ada"},
            ).one()
        return {"n": len(row)}

    return app


async def run(app: Any, *requests: tuple[str, dict[str, Any]]) -> list[tracer.Trace]:
    with tracer.capture(app) as traces:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for path, kwargs in requests:
                await client.get(path, **kwargs)
    return traces.traces


async def test_unsampled_requests_leave_no_trace_but_errors_still_do() -> None:
    app = tracer.instrument(make_app(), sample_rate=0.0, record_url_values=True)
    traces = await run(app, ("/ok", {}), ("/boom", {}), ("/five-hundred", {}))
    assert [t.root.attributes["url.path"] for t in traces] == ["/boom", "/five-hundred"]
    boom, down = traces
    assert boom.meta["sampled"] is False
    assert len(boom.spans) == 1, "an error-only trace is the root span alone"
    assert boom.root.status == "error"
    assert exception_event(boom.root).attributes["exception.type"] == "RuntimeError"
    assert down.status_code == 503


async def test_always_trace_errors_can_be_turned_off() -> None:
    app = tracer.instrument(make_app(), sample_rate=0.0, always_trace_errors=False)
    assert await run(app, ("/ok", {}), ("/boom", {})) == []


async def test_sample_rate_is_a_ratio() -> None:
    app = tracer.instrument(make_app(), sample_rate=0.5, always_trace_errors=False)
    traces = await run(app, *[("/ok", {})] * 400)
    assert 120 <= len(traces) <= 280  # 200 expected; bounds are > 8 standard deviations


async def test_trigger_header_forces_a_full_trace_only_with_a_valid_token() -> None:
    secret = "correct horse battery staple"
    app = tracer.instrument(make_app(), sample_rate=0.0, trigger_secret=secret)
    stale = trigger_token(secret, now=time.time() - 3600)
    traces = await run(
        app,
        ("/ok", {"headers": {"x-trace-request": trigger_token(secret)}}),
        ("/ok", {"headers": {"x-trace-request": trigger_token("wrong secret")}}),
        ("/ok", {"headers": {"x-trace-request": stale}}),
        ("/ok", {"headers": {"x-trace-request": "1"}}),
    )
    assert len(traces) == 1
    assert len(traces[0].spans) > 5, "a triggered request is traced in full"
    assert "x-trace-request" in dict(traces[0].request["headers"])


async def test_without_a_secret_the_trigger_header_does_nothing() -> None:
    app = tracer.instrument(make_app(), sample_rate=0.0, always_trace_errors=False)
    traces = await run(app, ("/ok", {"headers": {"x-trace-request": trigger_token("")}}))
    assert traces == []


def test_trigger_tokens() -> None:
    token = trigger_token(b"k", now=1_000_000)
    assert verify_token(token, b"k", now=1_000_100)
    assert not verify_token(token, b"k", now=1_000_000 + 301)
    assert not verify_token(token, b"other", now=1_000_100)
    assert not verify_token(token.replace(".", ""), b"k", now=1_000_100)
    assert not verify_token("99999999999999.abc", b"k")


async def test_response_carries_the_trace_id_and_traceparent() -> None:
    app = tracer.instrument(make_app())
    with tracer.capture(app) as traces:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/ok")
    trace = traces.last
    assert response.headers["x-trace-id"] == trace.trace_id
    assert response.headers["traceparent"] == f"00-{trace.trace_id}-{trace.root.span_id}-01"
    assert len(trace.trace_id) == 32
    app2 = tracer.instrument(make_app(), response_headers=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app2), base_url="http://t") as c:
        assert "x-trace-id" not in (await c.get("/ok")).headers


async def test_sql_parameters_are_never_recorded_unless_asked_and_then_redacted() -> None:
    (plain,) = await run(tracer.instrument(make_app()), ("/sql", {}))
    select = find(plain, "SELECT")
    assert "db.parameters" not in select.attributes
    assert "hunter2-in-sql" not in plain.to_json()
    app = tracer.instrument(make_app(), record_sql_parameters=True)
    (opted,) = await run(app, ("/sql", {}))
    parameters = find(opted, "SELECT").attributes["db.parameters"]
    assert "ada" in parameters
    assert "hunter2-in-sql" not in parameters
    assert "[redacted]" in parameters


async def test_attribute_length_and_span_count_are_limited() -> None:
    app = tracer.instrument(make_app(), max_attribute_length=200, max_spans=12)
    (trace,) = await run(app, ("/sql", {}))
    assert len(trace.spans) == 12
    assert trace.meta["dropped_spans"] > 0
    for span in trace.spans:
        for value in span.attributes.values():
            assert not isinstance(value, str) or len(value) <= 200
    app = tracer.instrument(make_app(), max_attribute_length=200)
    (full,) = await run(app, ("/sql", {}))
    statement = find(full, "SELECT").attributes["db.statement"]
    assert len(statement) <= 200
    assert statement.endswith("chars]")


async def test_credentials_in_headers_are_redacted_by_default_and_on_request() -> None:
    app = tracer.instrument(make_app(), redact_headers=["x-tenant"])
    (trace,) = await run(
        app,
        (
            "/ok",
            {
                "headers": {
                    "authorization": "Bearer abc.def",
                    "cookie": "session=s3cr3t",
                    "x-api-key": "k-123",
                    "x-tenant": "acme",
                    "accept": "application/json",
                }
            },
        ),
    )
    headers = dict(trace.request["headers"])
    for name in ("authorization", "cookie", "x-api-key", "x-tenant"):
        assert headers[name] == "[redacted]"
    assert headers["accept"] == "application/json"
    document = trace.to_json()
    for secret in ("abc.def", "s3cr3t", "k-123", "acme"):
        assert secret not in document


def test_bad_options_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="sample_rate must be between 0 and 1"):
        tracer.instrument(make_app(), sample_rate=1.5)
    with pytest.raises(ValueError, match="max_spans"):
        tracer.instrument(make_app(), max_spans=0)


def test_sample_rate_from_the_opentelemetry_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from tracer.capture.config import config_from

    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")
    assert config_from().sample_rate == 0.25
    assert config_from(sample_rate=1.0).sample_rate == 1.0
