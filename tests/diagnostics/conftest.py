"""Real traces of the demo app, recorded once per session and shared by every test here.

Recording is the slow part (the teaching endpoints sleep on purpose), and the
analysis under test is a pure function of the trace, so one app records every
request once and the tests only read the resulting plain ``Trace`` objects.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

import tracer
from tracer.demo_app.config import Settings
from tracer.demo_app.main import create_app
from tracer.model import Trace

SIGN_UP = {"email": "ada@example.com", "password": "s3cret-pass"}

#: label → request; order matters: the N+1 pair runs on the freshly seeded demo, before the
#: sign-up adds a user (the seed's three users are enough to show one query per user).
REQUESTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "warm_up": ("GET", "/health", {}),
    "n_plus_one": ("GET", "/users-with-items", {}),
    "eager": ("GET", "/users-with-items/eager", {}),
    "sign_up": ("POST", "/users", {"json": SIGN_UP}),
    "search_422": ("GET", "/search?q=p", {}),
    "bad_json": (
        "POST",
        "/users",
        {"content": b"{bad", "headers": {"content-type": "application/json"}},
    ),
    "bad_body": ("POST", "/users", {"json": {"email": "nope", "password": "x"}}),
    "no_token": ("GET", "/users/me", {}),
    "bad_token": ("GET", "/users/me", {"headers": {"authorization": "Bearer nope"}}),
    "bad_version": ("GET", "/items", {"headers": {"x-api-version": "9"}}),
    "boom": ("GET", "/boom", {"headers": {"origin": "https://app.example"}}),
    "blocking": ("GET", "/slow/blocking", {}),
    "async_sleep": ("GET", "/slow/async", {}),
    "sync_report": ("GET", "/sync/report", {}),
    "stream": ("GET", "/stream", {}),
    "not_found": ("GET", "/nowhere", {}),
    "leaky_user": ("GET", "/examples/leaky-user/1", {}),
    "failing_task": ("POST", "/examples/failing-task", {}),
    "slow_serialization": ("GET", "/examples/slow-serialization", {}),
    "pool_exhausted": ("GET", "/examples/pool-exhausted", {}),
    "threadpool_starved": ("GET", "/examples/threadpool-starved", {}),
}


async def _record() -> dict[str, Trace]:
    app = tracer.instrument(create_app(Settings()), record_url_values=True)  # as the CLI
    out: dict[str, Trace] = {}
    async with app.router.lifespan_context(app):
        with tracer.capture(app) as traces:
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
                for label, (method, path, kwargs) in REQUESTS.items():
                    before = len(traces)
                    await client.request(method, path, **kwargs)
                    assert len(traces) == before + 1, f"{label}: no trace recorded"
                    out[label] = traces.last
    return out


@pytest.fixture(scope="session")
def demo_traces() -> dict[str, Trace]:
    """One trace per entry of ``REQUESTS``, all from the same instrumented demo app."""
    return anyio.run(_record)
