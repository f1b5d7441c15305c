"""The app variants and endpoints the benchmarks compare.

Every variant is a fresh ``tracer.demo_app.main.create_app()``; its lifespan is run
once (by :func:`started`) and requests go in-process through
``httpx.AsyncClient(transport=httpx.ASGITransport(app))``.

Variants (ours first, then the peers):

``base``
    no tracing.
``defaults``
    ``tracer.instrument(app)`` as it ships: the local trace store on, with its
    default budget, writing to a scratch file (never the user's store).
``full``
    ``tracer.instrument(app, on_trace=sink, store=False)``: every phase
    recorded, the trace built and handed to a sink that counts it and drops it.
``otlp``
    ``store=False`` and trace-request's OTLP sink (batch processor, protobuf
    over HTTP) exporting to a loopback collector in a process of its own.
``unsampled``
    ``tracer.instrument(app, sample_rate=0.0)``; if this tracer version does
    not take ``sample_rate`` yet, ``exclude_paths=[the benchmarked paths]`` (the
    same not-traced fast path), and the report says so.
``otel``
    OTel contrib: ``FastAPIInstrumentor.instrument_app(app, tracer_provider=...)``
    plus ``SQLAlchemyInstrumentor`` on the app's engine (SQLAlchemy 2.0: see
    run.py), spans to a ``SimpleSpanProcessor`` with an in-memory exporter
    (cleared between rounds; a dropping one in the HTTP servers).
``fastapi``
    FastAPI's built-in telemetry (0.142+), which is on whenever an SDK
    ``TracerProvider`` is configured: here the app's own
    (``telemetry["tracer_provider"]``), so the other apps in the same
    interpreter stay untraced; same span processor as ``otel``.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

VARIANTS = ("base", "defaults", "full", "otlp", "unsampled", "otel", "fastapi")
INPROCESS_VARIANTS = VARIANTS
#: ours, judged against the cheapest peer
OURS = ("defaults", "full", "otlp")
PEERS = ("otel", "fastapi")
VARIANT_LABELS = {
    "base": "(a) no tracing",
    "defaults": "(b) trace-request as shipped (store on)",
    "full": "(c) trace-request, store=False + sink",
    "otlp": "(d) trace-request, OTLP to a loopback collector",
    "unsampled": "(e) trace-request, not sampled",
    "otel": "(f) OTel contrib (FastAPI + SQLAlchemy)",
    "fastapi": "(g) FastAPI built-in telemetry",
}

SHM = "/dev/shm"

#: paths the not-sampled fallback (``exclude_paths``) must cover
BENCH_PATHS = ("/health", "/users", "/users/me")


class CountingSink:
    """A trace sink that counts traces and spans and keeps nothing (or everything)."""

    def __init__(self, keep: bool = False) -> None:
        self.keep = keep
        self.traces: list[Any] = []
        self.count = 0
        self.spans = 0
        self.last_spans = 0

    def __call__(self, trace: Any) -> None:
        self.count += 1
        self.last_spans = len(trace.spans)
        self.spans += self.last_spans
        if self.keep:
            self.traces.append(trace)

    def reset(self) -> None:
        self.traces.clear()
        self.count = 0
        self.spans = 0


@dataclass
class Variant:
    name: str
    app: Any
    client: Any = None
    sink: CountingSink | None = None
    exporter: Any = None  # OTel InMemorySpanExporter
    store: Any = None  # tracer.sinks.store.TraceStore
    notes: list[str] = field(default_factory=list)

    def spans_recorded(self) -> int:
        if self.sink is not None:
            return self.sink.spans
        if self.exporter is not None:
            return len(self.exporter.get_finished_spans())
        return 0

    def clear(self) -> None:
        if self.sink is not None:
            self.sink.reset()
        if self.exporter is not None:
            self.exporter.clear()


@contextlib.contextmanager
def _captured_log(name: str) -> Iterator[list[str]]:
    """Keep what logger ``name`` says in a list instead of printing it."""
    messages: list[str] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger(name)
    handler = _Keep()
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def instrument(app: Any, **options: Any) -> Any:
    """``tracer.instrument`` without the default trace store (on tracers that have one)."""
    import tracer

    options.setdefault("store", False)
    try:
        return tracer.instrument(app, **options)
    except TypeError as exc:
        if "store" not in str(exc) or options["store"] is not False:
            raise
    del options["store"]
    return tracer.instrument(app, **options)


def instrument_unsampled(app: Any, sink: CountingSink) -> str:
    """``sample_rate=0.0`` if the tracer takes it, else the ``exclude_paths`` fast path."""
    try:
        instrument(app, on_trace=sink, sample_rate=0.0)
        return "sample_rate=0.0"
    except TypeError as exc:
        if "sample_rate" not in str(exc):
            raise
    instrument(app, on_trace=sink, exclude_paths=list(BENCH_PATHS))
    return "exclude_paths (instrument() does not take sample_rate yet)"


def scratch_dir() -> str:
    """A private directory on tmpfs (or the default temp dir), removed at exit."""
    if not _scratch_dirs:
        atexit.register(_cleanup_scratch)
    shm = os.path.isdir(SHM) and os.access(SHM, os.W_OK)
    directory = tempfile.mkdtemp(prefix="trace-request-bench-", dir=SHM if shm else None)
    _scratch_dirs.append(directory)
    return directory


class _DroppingExporter:
    """An OTel ``SpanExporter`` that keeps nothing (for long-running servers)."""

    def export(self, spans: Any) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


_scratch_dirs: list[str] = []


def _cleanup_scratch() -> None:
    for directory in _scratch_dirs:
        shutil.rmtree(directory, ignore_errors=True)
    _scratch_dirs.clear()


def bench_settings() -> Any:
    """The demo's default settings, with its SQLite database in a file on tmpfs.

    Disk flushes on COMMIT vary by milliseconds from one request to the next and
    would drown the tracer's cost, so the database lives in ``/dev/shm`` when
    there is one (the demo's own default otherwise). One file per app.
    """
    from tracer.demo_app.config import Settings

    if not os.path.isdir(SHM) or not os.access(SHM, os.W_OK):
        return Settings()
    return Settings(database_url=f"sqlite+aiosqlite:///{scratch_dir()}/demo.db")


def database_note() -> str:
    if os.path.isdir(SHM) and os.access(SHM, os.W_OK):
        return f"database: the demo's SQLite (aiosqlite) in a file on tmpfs ({SHM}), one per app"
    return "database: the demo's default (no tmpfs found)"


def make_variant(name: str, *, keep_otel_spans: bool = True) -> Variant:
    """A fresh demo app in variant ``name``; ``keep_otel_spans=False`` drops OTel spans."""
    from tracer.demo_app.main import create_app

    app = create_app(bench_settings())
    variant = Variant(name, app)
    if name == "full":
        variant.sink = CountingSink()
        instrument(app, on_trace=variant.sink)
    elif name == "defaults":
        from tracer.sinks.store import TraceStore

        variant.sink = CountingSink()  # counts spans; the store is what is measured
        variant.store = TraceStore(os.path.join(scratch_dir(), "traces.db"))
        instrument(app, on_trace=variant.sink, store=variant.store)
    elif name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        from benchmarks import collector
        from tracer.sinks.exporters.otlp_env import OTLPSink

        variant.sink = CountingSink()
        otlp = OTLPSink(OTLPSpanExporter(endpoint=f"{collector.url()}/v1/traces"))
        instrument(app, on_trace=[variant.sink, otlp])
    elif name == "unsampled":
        variant.sink = CountingSink()
        variant.notes.append(instrument_unsampled(app, variant.sink))
    elif name in ("otel", "fastapi"):
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
            InMemorySpanExporter,
        )

        provider = TracerProvider()
        if keep_otel_spans:
            variant.exporter = InMemorySpanExporter()
            provider.add_span_processor(SimpleSpanProcessor(variant.exporter))
        else:
            provider.add_span_processor(SimpleSpanProcessor(_DroppingExporter()))
        app.state.bench_tracer_provider = provider
        if name == "otel":
            from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

            FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
        elif isinstance(getattr(app, "_telemetry", None), dict):
            app._telemetry["tracer_provider"] = provider  # what a global provider turns on
        else:
            variant.notes.append("this FastAPI has no built-in telemetry (< 0.142): untraced")
    elif name != "base":
        raise ValueError(name)
    return variant


def instrument_otel_sqlalchemy(variant: Variant) -> str:
    """After the lifespan created the engine: OTel's SQLAlchemy instrumentation, if it applies."""
    import sqlalchemy
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    instrumentor = SQLAlchemyInstrumentor()
    with _captured_log("opentelemetry.instrumentation.instrumentor") as said:
        instrumentor.instrument(
            engine=variant.app.state.engine.sync_engine,
            tracer_provider=variant.app.state.bench_tracer_provider,
        )
    if instrumentor.is_instrumented_by_opentelemetry:
        return "opentelemetry-instrumentation-sqlalchemy: on"
    wants = ", ".join(instrumentor.instrumentation_dependencies())
    return (
        f"opentelemetry-instrumentation-sqlalchemy refused SQLAlchemy {sqlalchemy.__version__} "
        f"(it supports {wants}; instrument() {'logged an error and ' if said else ''}"
        "recorded nothing): the OTel numbers have no DB spans"
    )


@contextlib.asynccontextmanager
async def started(variant: Variant) -> AsyncIterator[Variant]:
    """Run the app's lifespan once and open an in-process client."""
    import httpx

    async with variant.app.router.lifespan_context(variant.app):
        if variant.name == "otel":
            variant.notes.append(instrument_otel_sqlalchemy(variant))
        transport = httpx.ASGITransport(app=variant.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            variant.client = client
            yield variant
            variant.client = None


# -- endpoints -------------------------------------------------------------------------------

_emails = itertools.count(1)


def cheap_hash_password(password: str) -> str:
    """The demo's hash with 1 PBKDF2 iteration instead of 100,000 (benchmark only)."""
    from tracer.demo_app.security import hash_password

    return hash_password(password, iterations=1)


@dataclass
class Endpoint:
    key: str
    label: str
    method: str
    path: str
    expect: int
    batch: int  # requests per variant per round
    chunk: int  # requests in a row before the next variant's turn
    json: Callable[[], Any] | None = None
    headers: Callable[[Variant], dict[str, str]] | None = None
    cheap_hash: bool = False

    def request_kwargs(self, variant: Variant) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.json is not None:
            kwargs["json"] = self.json()
        if self.headers is not None:
            kwargs["headers"] = self.headers(variant)
        return kwargs


def _new_user() -> dict[str, str]:
    return {"email": f"bench{next(_emails)}@example.com", "password": "s3cret-pass"}


def _bearer(variant: Variant) -> dict[str, str]:
    token = getattr(variant, "_token", None)
    if token is None:
        from tracer.demo_app.security import issue_token

        settings = variant.app.state.settings
        token = issue_token(1, settings.secret_key, 24 * 3600)  # the seeded admin
        variant._token = token  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {token}"}


def endpoints(scale: float = 1.0) -> list[Endpoint]:
    """The benchmarked requests; ``scale`` shrinks the batches for ``--quick``."""

    def n(count: int) -> int:
        return max(3, int(count * scale))

    return [
        Endpoint("health", "GET /health", "GET", "/health", 200, n(200), 10),
        Endpoint(
            "users_me",
            "GET /users/me (bearer → oauth2 → get_current_user → get_db → db.get)",
            "GET",
            "/users/me",
            200,
            n(120),
            5,
            headers=_bearer,
        ),
        Endpoint(
            "post_users_cheap",
            "POST /users, 1-iteration hash (benchmark-only patch)",
            "POST",
            "/users",
            201,
            n(60),
            2,
            json=_new_user,
            cheap_hash=True,
        ),
        Endpoint(
            "post_users",
            "POST /users, demo as shipped (PBKDF2 100k iterations)",
            "POST",
            "/users",
            201,
            n(12),
            1,
            json=_new_user,
        ),
    ]


@contextlib.contextmanager
def hash_patched(cheap: bool) -> Any:
    """Swap the users router's ``hash_password`` for the 1-iteration one while ``cheap``."""
    import tracer.demo_app.routers.users as users

    original = users.hash_password
    if cheap:
        users.hash_password = cheap_hash_password
    try:
        yield
    finally:
        users.hash_password = original
