"""The app's startup and shutdown are traces of their own, and the app behaves exactly as without.

Each test drives the lifespan through the app's ASGI interface, as a server
does, and reads the traces a collector received.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import tracer
from tracer.analysis import invariants
from tracer.analysis.diagnostics import diagnose
from tracer.analysis.explain import explain
from tracer.capture.lifespan import is_lifespan
from tracer.model import Trace
from tracer.renderers import RENDERERS
from tracer.sinks.store.summary import summarize

Between = Callable[[Any], Awaitable[None]]


class BootError(RuntimeError):
    pass


async def _lifespan(app: Any, between: Between | None = None) -> tuple[list[str], str | None]:
    """Startup, ``between(app)``, shutdown: the messages the app sent and what it raised."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[str] = []
    answered = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])
        answered.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    task = asyncio.ensure_future(app(scope, inbox.get, send))
    await inbox.put({"type": "lifespan.startup"})
    await asyncio.wait(
        {task, asyncio.ensure_future(answered.wait())}, return_when="FIRST_COMPLETED"
    )
    if sent == ["lifespan.startup.complete"]:
        if between is not None:
            await between(app)
        answered.clear()
        await inbox.put({"type": "lifespan.shutdown"})
    try:
        await task
    except Exception as exc:
        return sent, f"{type(exc).__name__}: {exc}"
    return sent, None


def run(app: Any, between: Between | None = None) -> tuple[list[Trace], list[str], str | None]:
    """Instrument ``app``, run its lifespan; ``(traces, messages sent, exception)``."""
    tracer.instrument(app, store=False)
    with tracer.capture(app, lifespan=True) as traces:
        sent, raised = asyncio.run(_lifespan(app, between))
    return traces.traces, sent, raised


def db_app(path: Path) -> FastAPI:
    """Creates a table and seeds it at startup, disposes of the engine at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
            await conn.execute(text("INSERT INTO notes (body) VALUES ('hello')"))
        app.state.engine = engine
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/notes")
    async def notes() -> dict[str, int]:
        async with app.state.engine.connect() as conn:
            count = (await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one()
        return {"count": count}

    return app


def event_app(calls: list[str]) -> FastAPI:
    """``@app.on_event`` handlers, sync and async (deprecated, still used)."""
    app = FastAPI()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)

        @app.on_event("startup")
        async def open_cache() -> None:
            calls.append("open_cache")

        @app.on_event("startup")
        def read_settings() -> None:
            calls.append("read_settings")

        @app.on_event("shutdown")
        async def close_cache() -> None:
            calls.append("close_cache")

    return app


def failing_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        raise BootError("the config service is down")
        yield

    return FastAPI(lifespan=lifespan)


def test_startup_and_shutdown_are_two_traces_with_their_db_work(tmp_path: Path) -> None:
    traces, sent, raised = run(db_app(tmp_path / "db.sqlite"))
    assert raised is None
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    startup, shutdown = traces
    for trace, phase in ((startup, "startup"), (shutdown, "shutdown")):
        assert is_lifespan(trace)
        assert trace.meta["lifespan"] == phase
        assert trace.root.name == f"lifespan {phase}"
        assert trace.root.phase == "lifespan"
        assert trace.request == {} and trace.status_code is None
        # (a collector pause may land in between as a "gc" event: not the subject here)
        events = [e.name for e in trace.root.events if e.name.startswith("lifespan")]
        assert events == [f"lifespan.{phase}", f"lifespan.{phase}.complete"]
    statements = [s.name for s in startup.spans if "db.statement" in s.attributes]
    assert statements == ["CREATE notes", "INSERT notes"]
    assert all(s.phase == "db" and s.step == 0 for s in startup.spans[1:])
    dispose = [s for s in shutdown.spans if s.name == "engine dispose"]
    assert len(dispose) == 1 and dispose[0].attributes["db.system"] == "sqlite"
    assert startup.trace_id != shutdown.trace_id


def test_requests_between_are_their_own_traces(tmp_path: Path) -> None:
    async def between(app: Any) -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/notes")).json() == {"count": 1}

    traces, _, _ = run(db_app(tmp_path / "db.sqlite"), between)
    assert [t.meta.get("lifespan") for t in traces] == ["startup", None, "shutdown"]
    request = traces[1]
    assert request.root.name == "GET /notes" and request.status_code == 200
    assert "SELECT notes" in [s.name for s in request.spans]
    assert "SELECT notes" not in [s.name for s in traces[0].spans]


def test_on_event_handlers_get_a_span_each() -> None:
    calls: list[str] = []
    traces, sent, raised = run(event_app(calls))
    assert raised is None and sent[-1] == "lifespan.shutdown.complete"
    assert calls == ["open_cache", "read_settings", "close_cache"]
    startup, shutdown = traces
    handlers = [s for s in startup.spans if "lifespan.handler" in s.attributes]
    assert [s.name for s in handlers] == [
        "event_app.<locals>.open_cache",
        "event_app.<locals>.read_settings",
    ]
    assert all(s.parent_id == startup.root.span_id for s in handlers)
    assert [s.name for s in shutdown.spans[1:]] == ["event_app.<locals>.close_cache"]


def test_a_failing_startup_behaves_as_without_the_tracer_and_is_recorded() -> None:
    plain_sent, plain_raised = asyncio.run(_lifespan(failing_app()))
    traces, sent, raised = run(failing_app())
    assert sent == plain_sent == ["lifespan.startup.failed"]
    assert raised == plain_raised == "BootError: the config service is down"
    (startup,) = traces
    assert startup.root.status == "error"
    assert startup.root.attributes["lifespan.outcome"] == "failed"
    (finding,) = diagnose(startup)
    assert finding.code == "lifespan_failed"
    assert finding.title == "startup failed: BootError"


def test_a_failing_on_event_handler_is_the_span_that_raised() -> None:
    app = FastAPI()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)

        @app.on_event("startup")
        def connect() -> None:
            raise BootError("no route to host")

    traces, _, raised = run(app)
    assert raised == "BootError: no route to host"
    handler = next(s for s in traces[0].spans if "lifespan.handler" in s.attributes)
    assert handler.status == "error"
    assert diagnose(traces[0])[0].title.endswith(f"in {handler.name}")


def test_exporters_are_flushed_after_the_shutdown_trace_is_delivered() -> None:
    order: list[str] = []

    class Sink:
        def __call__(self, trace: Trace) -> None:
            order.append(str(trace.meta.get("lifespan")))

        def at_shutdown(self) -> None:
            order.append("flush")

    app = event_app([])
    tracer.instrument(app, store=False, on_trace=Sink())
    asyncio.run(_lifespan(app))
    assert order == ["startup", "shutdown", "flush"]


def test_an_error_in_the_tracer_never_reaches_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from tracer.capture import delivery

    def broken(*_: Any) -> Trace:
        raise RuntimeError("tracer bug")

    monkeypatch.setattr(delivery, "build_trace", broken)
    calls: list[str] = []
    traces, sent, raised = run(event_app(calls))
    assert raised is None and traces == []
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert calls == ["open_cache", "read_settings", "close_cache"]


@pytest.fixture(scope="module")
def lifespan_traces(tmp_path_factory: pytest.TempPathFactory) -> list[Trace]:
    """A successful startup and shutdown, and a failed startup."""
    traces, _, _ = run(db_app(tmp_path_factory.mktemp("db") / "db.sqlite"))
    failed, _, _ = run(failing_app())
    return [*traces, *failed]


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_every_renderer_draws_a_trace_without_a_request(
    lifespan_traces: list[Trace], name: str
) -> None:
    for trace in lifespan_traces:
        text = RENDERERS[name](width=100, color=False).render(trace).replace("&#160;", " ")
        assert trace.root.name in text or name == "json"
        assert "no response" not in text
        assert "not reached:" not in text  # no request lanes a lifespan never had


def test_explain_diagnose_invariants_and_the_store_summary(lifespan_traces: list[Trace]) -> None:
    startup, shutdown, failed = lifespan_traces
    (step,) = explain(startup)
    assert step.step == 0 and "2 SQL statements" in step.text
    assert "failed with BootError" in explain(failed)[0].text
    assert diagnose(startup) == [] and diagnose(shutdown) == []
    for trace in lifespan_traces:
        assert invariants.check(trace) == []
    row = summarize(startup)
    assert (row.method, row.path, row.status, row.error) == ("LIFESPAN", "startup", None, False)
    assert summarize(failed).error


def test_the_otel_export_has_an_internal_root(lifespan_traces: list[Trace]) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind

    from tracer.sinks.exporters.otel import export_to_provider
    from tracer.sinks.exporters.otlp_json import from_otlp_json, to_otlp_json

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    startup = lifespan_traces[0]
    export_to_provider(startup, provider)
    root = next(s for s in exporter.get_finished_spans() if s.parent is None)
    assert (root.name, root.kind) == ("lifespan startup", SpanKind.INTERNAL)
    assert "http.request.method" not in (root.attributes or {})
    (back,) = from_otlp_json(to_otlp_json(startup))
    assert is_lifespan(back) and back.root.phase == "lifespan"


def test_an_httpx_client_opened_and_closed_in_the_lifespan_is_shown_in_each_trace() -> None:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(base_url="http://partner.internal") as client:
            app.state.client = client
            yield

    app = FastAPI(lifespan=lifespan)
    traces, sent, raised = run(app)
    assert raised is None and sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    startup, shutdown = traces
    assert [s.name for s in startup.spans if s.name.startswith("httpx")] == ["httpx client open"]
    assert [s.name for s in shutdown.spans if s.name.startswith("httpx")] == ["httpx client close"]
    opened = next(s for s in startup.spans if s.name == "httpx client open")
    assert opened.phase == "lifespan" and opened.parent_id == startup.root.span_id
