"""The public entry points: :func:`instrument`, :func:`uninstrument`, :func:`capture`.

``instrument(app)`` rebinds the app's ``build_middleware_stack`` so the stack
gets a probe between every layer, and patches the framework hook points once
per process (shared by every instrumented app, undone when the last one is
uninstrumented). The request's :class:`~tracer.model.Trace` is built after the
response and handed to the sinks: callbacks, collectors, an OpenTelemetry
``TracerProvider``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from tracer.capture import app_output, lifespan
from tracer.capture.config import config_from
from tracer.capture.delivery import GLOBAL_SINKS, Instrumentation, TraceSink
from tracer.capture.hooks import database, gc_pauses, table
from tracer.capture.hooks.asgi import wrap_stack
from tracer.capture.hooks.patching import Patcher
from tracer.model import Trace
from tracer.safety import report
from tracer.sinks.endpoint import TraceEndpoint
from tracer.types import ASGIApp, Receive, Scope, Send

_STATE_ATTR = "_trace_request_instrumentation"

_lock = threading.Lock()
_patcher = Patcher()
_db_hooks = database.DatabaseHooks()
_installed = 0
_global_sinks = GLOBAL_SINKS  # the same list: capture() blocks opened without an app
_shared_stores: dict[str, Any] = {}


def _install_hooks() -> None:
    global _installed
    with _lock:
        # every time, not only the first: patching is idempotent, and another
        # instrumentation's undo (OpenTelemetry's uninstrument_app restores the function
        # it saw, which may predate ours) can have put a stale original back
        table.install(_patcher)
        lifespan.install(_patcher)
        if _installed == 0:
            gc_pauses.install()
            try:
                _db_hooks.install(_patcher)
            except ImportError:
                pass  # no SQLAlchemy: no db phase
        _installed += 1


def _uninstall_hooks() -> None:
    global _installed
    with _lock:
        _installed -= 1
        if _installed == 0:
            gc_pauses.uninstall()
            _db_hooks.uninstall()
            _patcher.restore()
            table.forget()


def instrument(
    app: Any,
    *,
    on_trace: TraceSink | Iterable[TraceSink] | None = None,
    tracer_provider: Any = None,
    sample_rate: float | None = None,
    always_trace_errors: bool = True,
    trigger_header: str = "x-trace-request",
    trigger_secret: bytes | str | None = None,
    exclude_paths: Iterable[str] = (),
    max_spans: int = 2000,
    max_attribute_length: int = 1024,
    redact_headers: Iterable[str] = (),
    record_sql_parameters: bool = False,
    record_url_values: bool = False,
    response_headers: bool = True,
    record_logs: bool | str | int = False,
    propagate: bool = True,
    store: Any = "auto",
    endpoint_secret: bytes | str | None = None,
) -> Any:
    """Trace every HTTP request of a FastAPI or Starlette ``app``; returns the app.

    Call it before or after adding routes and middleware. Calling it again
    only updates the options. ``on_trace`` receives each finished
    :class:`~tracer.model.Trace`; ``tracer_provider`` (an OpenTelemetry
    ``TracerProvider``) receives the spans — by default the global one once it
    is configured (``trace.set_tracer_provider``, ``opentelemetry-instrument``),
    ``False`` opts out; without a provider, the standard ``OTEL_EXPORTER_OTLP_*``
    variables configure an OTLP exporter when set. ``store`` keeps the last
    traces in a local SQLite file (``True``, a path, or a ``TraceStore``); by
    default it is on when no exporter is configured. ``endpoint_secret`` (or
    ``TRACE_REQUEST_ENDPOINT_SECRET``) turns on ``GET /_trace-request/traces/{id}``
    for ``trace-request --url`` when the CLI cannot open the store. Outbound
    ``httpx`` calls carry the W3C ``traceparent`` of their span unless
    ``propagate=False``. See docs/embedding.md for every option.
    """
    options = _instrumentation(
        on_trace=on_trace,
        tracer_provider=tracer_provider,
        sample_rate=sample_rate,
        always_trace_errors=always_trace_errors,
        trigger_header=trigger_header,
        trigger_secret=trigger_secret,
        exclude_paths=exclude_paths,
        max_spans=max_spans,
        max_attribute_length=max_attribute_length,
        redact_headers=redact_headers,
        record_sql_parameters=record_sql_parameters,
        record_url_values=record_url_values,
        response_headers=response_headers,
        record_logs=record_logs,
        propagate=propagate,
        store=store,
        endpoint_secret=endpoint_secret,
    )
    existing: Instrumentation | None = getattr(app, _STATE_ATTR, None)
    if existing is not None:
        app_output.release(existing.config.record_logs)
        app_output.acquire(options.config.record_logs)
        existing.__dict__.update(options.__dict__)
        return app
    if not hasattr(app, "build_middleware_stack") or not hasattr(app, "router"):
        raise TypeError(
            f"trace-request can instrument FastAPI and Starlette apps, not {type(app).__name__}"
        )
    _install_hooks()
    app_output.acquire(options.config.record_logs)
    original_build = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        stack = original_build()
        try:
            return wrap_stack(stack, app.router, options)
        except Exception as exc:
            report("middleware stack instrumentation", exc)
            return stack  # type: ignore[no-any-return]

    app.build_middleware_stack = build_middleware_stack
    app.middleware_stack = None  # rebuilt, with probes, on the next request
    setattr(app, _STATE_ATTR, options)
    return app


def _instrumentation(
    *,
    on_trace: TraceSink | Iterable[TraceSink] | None = None,
    tracer_provider: Any = None,
    store: Any = "auto",
    endpoint_secret: bytes | str | None = None,
    **config_options: Any,
) -> Instrumentation:
    """One app's options, sinks and endpoint: what :func:`instrument` and
    :class:`TraceRequestMiddleware` share, so both take the same options (the
    recording ones, with their defaults, are :func:`~tracer.capture.config.config_from`'s)."""
    config = config_from(**config_options)  # first: a bad option is a TypeError, nothing opened
    sinks = [on_trace] if callable(on_trace) else list(on_trace or ())
    otlp = None
    follow_global = tracer_provider is None  # default: the global provider, if configured
    if follow_global:
        from tracer.sinks.exporters.propagation import configured_global_provider

        tracer_provider = configured_global_provider()
    elif tracer_provider is False:  # opted out of the global provider
        tracer_provider = None
    if tracer_provider is None:
        from tracer.sinks.exporters.otlp_env import sink_from_env

        otlp = sink_from_env()
        if otlp is not None:
            sinks.append(otlp)
    if store == "auto":  # the local store is the default when no exporter is configured
        store = tracer_provider is None and otlp is None
    trace_store = _open_store(store)
    if trace_store is not None:
        sinks.append(trace_store)
    endpoint = _endpoint(endpoint_secret, trace_store)
    if endpoint is not None and trace_store is None:
        sinks.append(endpoint)  # no store to read from: it keeps the last traces itself
    options = Instrumentation(
        on_trace=sinks,
        tracer_provider=tracer_provider,
        config=config,
    )
    options.endpoint = endpoint
    options.follow_global = follow_global and tracer_provider is None
    options.env_sink = otlp
    return options


def _endpoint(secret: bytes | str | None, store: Any) -> TraceEndpoint | None:
    """The ``/_trace-request/`` endpoint when a secret is given (or in the environment)."""
    if secret is None:
        secret = os.environ.get("TRACE_REQUEST_ENDPOINT_SECRET") or None
    if secret is None:
        return None
    return TraceEndpoint(secret.encode() if isinstance(secret, str) else secret, store)


def _open_store(store: Any) -> Any:
    """``True``: the default store file; a path: that file; a ``TraceStore``: itself."""
    if store is None or store is False:
        return None
    from tracer.sinks.store import TraceStore, default_path

    if isinstance(store, TraceStore):
        return store
    path = str(default_path() if store is True else store)
    with _lock:  # one writer per file in this process, however many apps share it
        if path not in _shared_stores:
            _shared_stores[path] = TraceStore(path)
        return _shared_stores[path]


def uninstrument(app: Any) -> Any:
    """Undo :func:`instrument`; the app's stack is rebuilt without probes."""
    state = getattr(app, _STATE_ATTR, None)
    if state is None:
        return app
    delattr(app, _STATE_ATTR)
    app_output.release(state.config.record_logs)
    if "build_middleware_stack" in vars(app):
        del app.build_middleware_stack
    app.middleware_stack = None
    _uninstall_hooks()
    return app


def is_instrumented(app: Any) -> bool:
    return getattr(app, _STATE_ATTR, None) is not None


class TraceCollector:
    """Collects finished traces; use ``with tracer.capture(app) as traces: ...``."""

    def __init__(self, app: Any = None, *, lifespan: bool = False) -> None:
        self.app = app
        self.traces: list[Trace] = []
        #: also keep the app's startup/shutdown traces (off: a block around a test
        #: client's lifespan still collects only its requests)
        self.lifespan = lifespan
        self._lock = threading.Lock()

    def __call__(self, trace: Trace) -> None:
        if not self.lifespan and trace.meta.get("kind") == "lifespan":
            return
        with self._lock:
            self.traces.append(trace)

    @property
    def last(self) -> Trace:
        if not self.traces:
            raise LookupError("no request was traced")
        return self.traces[-1]

    def __len__(self) -> int:
        return len(self.traces)

    def __enter__(self) -> TraceCollector:
        sinks = _global_sinks
        if self.app is not None:
            state: Instrumentation | None = getattr(self.app, _STATE_ATTR, None)
            if state is None:
                raise RuntimeError("capture(app): the app is not instrumented; call instrument()")
            sinks = state.sinks
        sinks.append(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sinks in (_global_sinks, getattr(getattr(self.app, _STATE_ATTR, None), "sinks", [])):
            if self in sinks:
                sinks.remove(self)


def capture(app: Any = None, *, lifespan: bool = False) -> TraceCollector:
    """Collect the traces of requests handled while the ``with`` block runs.

    With ``app``, only that instrumented app's requests; without, every
    instrumented app's. With ``lifespan=True``, the startup and shutdown
    traces of lifespans run in the block too (``trace.meta["kind"] == "lifespan"``).
    """
    return TraceCollector(app, lifespan=lifespan)


class TraceRequestMiddleware:
    """``app.add_middleware(TraceRequestMiddleware, **options)``: the same tracer as
    :func:`instrument`, for those who prefer middleware.

    It takes exactly :func:`instrument`'s options (an unknown one is a
    ``TypeError`` when Starlette builds the stack) and, with none, behaves as
    ``instrument(app)`` does: the local store when no exporter is configured.
    It traces every layer *inside* it; ``ServerErrorMiddleware`` sits outside
    all user middleware, so a 500 it builds is seen only as an exception
    leaving this layer: :func:`instrument` sees the whole stack and is preferred.
    """

    def __init__(self, app: ASGIApp, **options: Any) -> None:
        from starlette.routing import Router

        self.instrumentation = _instrumentation(**options)
        _install_hooks()
        app_output.acquire(self.instrumentation.config.record_logs)
        router: object = None
        layer: Any = app
        while layer is not None and router is None:
            if isinstance(layer, Router):
                router = layer
            layer = getattr(layer, "app", None) if not isinstance(layer, Router) else None
        self.app = wrap_stack(app, router, self.instrumentation)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


__all__ = [
    "Instrumentation",
    "TraceCollector",
    "TraceRequestMiddleware",
    "capture",
    "instrument",
    "is_instrumented",
    "uninstrument",
]
