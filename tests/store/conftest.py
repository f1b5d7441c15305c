"""Small traces built inline (a root span and a couple of children) and stores to put them in."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tracer.model import Span, SpanEvent, Trace
from tracer.sinks.store import TraceStore

T0 = 1_700_000_000_000_000_000
MS = 1_000_000


def make_trace(
    n: int,
    *,
    status: int | None = 200,
    method: str = "GET",
    path: str | None = None,
    route: str | None = "/items/{item_id}",
    start_ms: int | None = None,
    failed: bool = False,
) -> Trace:
    """Trace number ``n``: id ``n`` in hex, starting ``n`` ms after T0 unless told otherwise."""
    start = T0 + (n if start_ms is None else start_ms) * MS
    path = path or f"/items/{n}"
    trace_id = f"{n:032x}"
    root = Span(
        span_id=f"{n:08x}00000001",
        parent_id=None,
        name=f"{method} {route or path}",
        phase="asgi",
        step=1,
        start_ns=start,
        end_ns=start + 5 * MS,
        status="error" if failed else "ok",
        attributes={"http.request.method": method, "url.path": path, "ratio": 0.25},
    )
    handler = Span(
        span_id=f"{n:08x}00000002",
        parent_id=root.span_id,
        name="read_item",
        phase="handler",
        step=6,
        start_ns=start + MS,
        end_ns=start + 3 * MS,
        attributes={"handler.kind": "async", "fields": ["id", "naïve ✓"]},
        events=[SpanEvent("cache.miss", start + 2 * MS, {"key": "item:1"})],
    )
    send = Span(
        span_id=f"{n:08x}00000003",
        parent_id=root.span_id,
        name="send http.response.body",
        phase="send",
        step=9,
        start_ns=start + 3 * MS,
        end_ns=start + 4 * MS,
        attributes={"body.bytes": 42, "more_body": False},
    )
    request: dict[str, object] = {"method": method, "path": path, "query": "", "headers": []}
    if route is not None:
        request["route"] = route
    return Trace(
        trace_id=trace_id,
        spans=[root, handler, send],
        request=request,
        response={"status_code": status, "headers": [["content-type", "application/json"]]},
        response_end_ns=None if status is None else start + 4 * MS,
        meta={"n": n},
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "traces.db"


@pytest.fixture
def open_store(db_path: Path) -> Iterator[Callable[..., TraceStore]]:
    """``open_store(**options)``: a store on ``db_path``; every one is closed after the test.

    No budget unless a test asks for one: these tests are about writing every
    trace they add (test_budget.py is about choosing).
    """
    stores: list[TraceStore] = []

    def factory(path: Path | None = None, **options: object) -> TraceStore:
        options.setdefault("flush_interval", 0.01)
        options.setdefault("budget", None)
        store = TraceStore(path or db_path, **options)  # type: ignore[arg-type]
        stores.append(store)
        return store

    yield factory
    for store in stores:
        store.close()


@pytest.fixture
def filled(open_store: Callable[..., TraceStore]) -> TraceStore:
    """A store holding traces 1..10 (3 and 7 failed, 8 is a 404 on another route)."""
    store = open_store()
    for n in range(1, 11):
        if n == 8:
            store.add(make_trace(n, status=404, path="/users/8", route="/users/{user_id}"))
        else:
            store.add(make_trace(n, status=500 if n in (3, 7) else 200, failed=n == 3))
    assert store.flush()
    return store


def warnings_from(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "trace_request" and r.levelno >= logging.WARNING]
