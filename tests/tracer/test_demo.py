"""The bundled demo API, traced: all ten steps, and responses identical to the untraced app."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import tracer
from tests.tracer.helpers import assert_well_formed, find, names
from tracer.demo_app.main import create_app
from tracer.model import Trace

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
# the app's own per-request values, and the two headers the tracer adds
VOLATILE_HEADERS = {
    "x-request-id",
    "server-timing",
    "date",
    "content-length",
    "x-trace-id",
    "traceparent",
}


@pytest.fixture
async def traced_demo() -> AsyncIterator[tuple[httpx.AsyncClient, tracer.TraceCollector]]:
    app = tracer.instrument(create_app())
    async with app.router.lifespan_context(app):
        with tracer.capture(app) as traces:
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
                yield client, traces


async def test_post_users_covers_all_ten_steps(
    traced_demo: tuple[httpx.AsyncClient, tracer.TraceCollector],
) -> None:
    client, traces = traced_demo
    body = {"email": "ada@example.com", "password": "s3cret-pass"}
    response = await client.post("/users", json=body)
    assert response.status_code == 201
    trace: Trace = traces.last
    assert_well_formed(trace)
    assert {s.step for s in trace.spans} == set(range(1, 11))
    assert trace.root.name == "POST /users"
    db = names(trace, "db")
    for statement in ("SELECT users", "INSERT users", "COMMIT"):
        assert statement in db
    get_db = find(trace, "get_db")
    assert get_db.attributes["dependency.kind"] == "async_generator"
    teardown = find(trace, "get_db teardown")
    assert teardown.attributes["dependency.name"] == "get_db"
    assert teardown.start_ns > get_db.end_ns
    background = find(trace, "send_welcome_email")
    assert background.attributes["background.after_response"] is True
    assert trace.response_end_ns is not None
    assert background.start_ns >= trace.response_end_ns
    # the password never reaches the trace
    assert "s3cret-pass" not in trace.to_json()


def _without_timestamps(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timestamps(v) for k, v in value.items() if k != "created_at"}
    if isinstance(value, list):
        return [_without_timestamps(v) for v in value]
    return value


def _comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], Any]:
    headers = sorted((k, v) for k, v in response.headers.items() if k not in VOLATILE_HEADERS)
    if response.headers.get("content-type", "").startswith("application/json"):
        body: Any = _without_timestamps(response.json())
    else:
        body = response.content
    return response.status_code, headers, body


SCRIPT: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/health", {}),
    ("POST", "/users", {"json": {"email": "ada@example.com", "password": "s3cret-pass"}}),
    ("POST", "/users", {"json": {"email": "ada@example.com", "password": "s3cret-pass"}}),
    ("POST", "/users", {"json": {"email": "nope", "password": "x"}}),
    ("GET", "/users/1", {}),
    ("GET", "/users/999", {}),
    ("GET", "/users?offset=0&limit=2", {}),
    ("GET", "/users?limit=0", {}),
    ("GET", "/users/me", {}),
    ("GET", "/search?q=p", {}),
    ("GET", "/search?q=ada&page=1&size=5", {}),
    ("GET", "/items", {"headers": {"x-api-version": "9"}}),
    ("GET", "/items", {"headers": {"accept-encoding": "gzip"}}),
    ("GET", "/sync/report", {}),
    ("GET", "/stream", {}),
    ("GET", "/users-with-items", {}),
    ("GET", "/boom", {"headers": {"origin": "https://app.example"}}),
    ("GET", "/nowhere", {}),
    ("DELETE", "/health", {}),
]


async def _run_script(app: Any) -> list[tuple[int, list[tuple[str, str]], Any]]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            return [_comparable(await client.request(m, p, **kw)) for m, p, kw in SCRIPT]


async def test_demo_responses_are_identical_with_and_without_the_tracer() -> None:
    plain = await _run_script(create_app())
    with tracer.capture() as traces:
        traced = await _run_script(tracer.instrument(create_app()))
    assert traced == plain
    assert len(traces) == len(SCRIPT)


def test_demo_suite_passes_unchanged_with_the_tracer_installed() -> None:
    env = {**os.environ, "TRACE_REQUEST_INSTRUMENT_DEMO": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", str(ROOT / "tests" / "demo")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
