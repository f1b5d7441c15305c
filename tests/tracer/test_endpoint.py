"""The opt-in ``/_trace-request/`` endpoint: off by default, secret-protected, untraced."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import tracer
from tracer.model import Trace
from tracer.sinks.store import TraceStore

SECRET = "a-long-enough-endpoint-secret"


def _app() -> Starlette:
    async def anything(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"app saw {request.url.path}")

    return Starlette(routes=[Route("/{path:path}", anything, methods=["GET", "POST"])])


def _traced_request(client: TestClient) -> str:
    response = client.get("/hello")
    assert response.text == "app saw /hello"
    return response.headers["x-trace-id"]


def test_off_by_default_the_path_belongs_to_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACE_REQUEST_ENDPOINT_SECRET", raising=False)
    client = TestClient(tracer.instrument(_app(), store=False))
    trace_id = _traced_request(client)
    response = client.get(f"/_trace-request/traces/{trace_id}")
    assert response.text == f"app saw /_trace-request/traces/{trace_id}"


def test_the_secret_is_required_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACE_REQUEST_ENDPOINT_SECRET", raising=False)
    seen: list[Trace] = []
    app = tracer.instrument(_app(), store=False, on_trace=seen.append, endpoint_secret=SECRET)
    client = TestClient(app)
    trace_id = _traced_request(client)
    url = f"/_trace-request/traces/{trace_id}"
    assert client.get(url).status_code == 401
    assert (
        client.get(url, headers={"authorization": "Bearer wrong-secret-xxxxxxxx"}).status_code
        == 401
    )
    assert client.get(url, headers={"authorization": SECRET}).status_code == 401

    response = client.get(url, headers={"authorization": f"bearer {SECRET}"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    trace = Trace.from_json(response.text)
    assert trace.trace_id == trace_id
    assert trace.request["path"] == "/…"  # the route is /{path}: its value is not recorded
    assert len(seen) == 1, "requests to the endpoint are not traced and never reach the app"


def test_unknown_ids_other_paths_and_methods_get_404(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACE_REQUEST_ENDPOINT_SECRET", SECRET)  # the environment turns it on
    client = TestClient(tracer.instrument(_app(), store=False))
    trace_id = _traced_request(client)
    auth = {"authorization": f"Bearer {SECRET}"}
    assert client.get(f"/_trace-request/traces/{trace_id}", headers=auth).status_code == 200
    assert client.get(f"/_trace-request/traces/{'0' * 32}", headers=auth).status_code == 404
    assert client.get("/_trace-request/traces/not-a-trace-id", headers=auth).status_code == 404
    assert client.get("/_trace-request/other", headers=auth).status_code == 404
    assert client.post(f"/_trace-request/traces/{trace_id}", headers=auth).status_code == 404


def test_it_reads_the_store_when_there_is_one(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACE_REQUEST_ENDPOINT_SECRET", raising=False)
    store = TraceStore(tmp_path / "traces.db")
    try:
        app = tracer.instrument(_app(), store=store, endpoint_secret=SECRET.encode())
        client = TestClient(app)
        trace_id = _traced_request(client)
        assert store.flush()
        response = client.get(
            f"/_trace-request/traces/{trace_id}", headers={"authorization": f"Bearer {SECRET}"}
        )
        assert response.status_code == 200
        assert Trace.from_json(response.text).trace_id == trace_id
    finally:
        store.close()


def test_it_keeps_only_the_last_traces_without_a_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACE_REQUEST_ENDPOINT_SECRET", raising=False)
    app = tracer.instrument(_app(), store=False, endpoint_secret=SECRET)
    app.__dict__["_trace_request_instrumentation"].endpoint.keep = 2
    client = TestClient(app)
    ids = [_traced_request(client) for _ in range(3)]
    auth = {"authorization": f"Bearer {SECRET}"}
    codes = [client.get(f"/_trace-request/traces/{i}", headers=auth).status_code for i in ids]
    assert codes == [404, 200, 200]


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        tracer.instrument(_app(), store=False, endpoint_secret="short")
