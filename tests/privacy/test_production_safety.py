"""Issue 13's findings, each pinned: the middleware form, triggers, the endpoint's door, sizes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

import tracer
from tracer.model import Trace
from tracer.sinks.store import ENV_VAR, TraceStore

pytestmark = pytest.mark.anyio

ENDPOINT_SECRET = "endpoint-secret-0123456789abcdef"


def small_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ok")
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    return app


def _client(app: object, base: str = "http://test") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url=base)


async def test_the_middleware_form_takes_instruments_options() -> None:
    traces: list[Trace] = []
    app = small_app()
    app.add_middleware(
        tracer.TraceRequestMiddleware, sample_rate=0.0, on_trace=traces.append, store=False
    )
    async with _client(app) as client:
        assert (await client.get("/ok")).status_code == 200
        assert (await client.get("/boom")).status_code == 500
    # sample_rate=0: the success is not traced, the error still is (as the exception
    # leaving the layer: ServerErrorMiddleware, outside it, builds the 500)
    assert len(traces) == 1
    assert traces[0].root.status == "error"


async def test_the_middleware_form_with_no_options_keeps_traces_like_instrument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "traces.db"
    monkeypatch.setenv(ENV_VAR, str(path))
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    app = small_app()
    app.add_middleware(tracer.TraceRequestMiddleware)
    async with _client(app) as client:
        response = await client.get("/ok")
    assert response.status_code == 200
    from tracer.capture.instrumentation import _shared_stores

    store: TraceStore = _shared_stores[str(path)]  # the writer instrument() would share
    assert store.flush()
    assert store.get(response.headers["x-trace-id"]) is not None


def test_an_unknown_middleware_option_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        tracer.TraceRequestMiddleware(small_app(), sampel_rate=0.1)


@pytest.mark.parametrize("value", [b"\xb9.x", "1700000000.é".encode(), b"1.2.3", b""])
async def test_a_malformed_trigger_header_never_hides_a_failing_request(value: bytes) -> None:
    traces: list[Trace] = []
    app = tracer.instrument(
        small_app(),
        sample_rate=0.0,
        trigger_secret="a-trigger-secret",
        on_trace=traces.append,
        store=False,
    )
    async with _client(app) as client:
        response = await client.get("/boom", headers=[(b"x-trace-request", value)])
    assert response.status_code == 500
    assert len(traces) == 1
    assert traces[0].response.get("status_code") == 500


async def test_a_valid_trigger_token_is_never_recorded() -> None:
    traces: list[Trace] = []
    app = tracer.instrument(
        small_app(),
        sample_rate=0.0,
        trigger_secret="a-trigger-secret",
        on_trace=traces.append,
        store=False,
    )
    token = tracer.trigger_token("a-trigger-secret")
    async with _client(app) as client:
        assert (await client.get("/ok", headers={"x-trace-request": token})).status_code == 200
    [trace] = traces
    assert trace.meta.get("triggered") is True  # the store keeps it whatever its budget
    assert token.split(".")[1] not in trace.to_json()
    assert dict(trace.request["headers"])["x-trace-request"] == "[redacted]"


def _guarded_app(traces: list[Trace]) -> FastAPI:
    app = small_app()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["api.example"])
    app.add_middleware(HTTPSRedirectMiddleware)
    return tracer.instrument(
        app, on_trace=traces.append, store=False, endpoint_secret=ENDPOINT_SECRET
    )


async def test_the_trace_endpoint_sits_behind_the_apps_own_security_middleware() -> None:
    traces: list[Trace] = []
    app = _guarded_app(traces)
    auth = {"authorization": f"Bearer {ENDPOINT_SECRET}"}
    async with _client(app, "https://api.example") as client:
        trace_id = (await client.get("/ok")).headers["x-trace-id"]
        url = f"/_trace-request/traces/{trace_id}"
        assert (await client.get(url, headers=auth)).status_code == 200
        # plain HTTP: the app's HTTPSRedirectMiddleware answers, not the endpoint
        plain = await client.get(f"http://api.example{url}", headers=auth)
        assert plain.status_code == 307
        # a host the app does not serve: TrustedHostMiddleware answers 400
        evil = await client.get(f"https://evil.example{url}", headers=auth)
        assert evil.status_code == 400
        assert trace_id not in evil.text
    assert len(traces) == 1, "the endpoint's own requests are never traced"


async def test_query_and_headers_are_bounded() -> None:
    traces: list[Trace] = []
    app = tracer.instrument(
        small_app(), on_trace=traces.append, store=False, max_attribute_length=256
    )
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/ok",
        "raw_path": b"/ok",
        "root_path": "",
        "query_string": b"q=" + b"x" * 2_000_000,  # a client library would refuse this URL
        "headers": [(f"x-h{i}".encode(), b"v" * 10_000) for i in range(100)],
        "server": ("test", 80),
        "client": ("127.0.0.1", 1),
    }
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 200
    [trace] = traces
    assert len(trace.to_json()) < 64_000
    assert len(trace.request["query"]) <= 256
