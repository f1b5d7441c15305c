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
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from tracer.capture import clock
from tracer.capture.config import TraceConfig, config_from
from tracer.capture.hooks import database, gc_pauses, table
from tracer.capture.hooks.asgi import decode_headers, wrap_stack
from tracer.capture.hooks.patching import Patcher
from tracer.capture.recorder import Recorder, mark_error
from tracer.model import Trace
from tracer.redaction import redact_headers
from tracer.safety import report
from tracer.sinks.endpoint import TraceEndpoint
from tracer.types import ASGIApp, Receive, Scope, Send

TraceSink = Callable[[Trace], None]
_STATE_ATTR = "_trace_request_instrumentation"

_lock = threading.Lock()
_patcher = Patcher()
_db_hooks = database.DatabaseHooks()
_installed = 0
_global_sinks: list[TraceSink] = []
_shared_stores: dict[str, Any] = {}


def _install_hooks() -> None:
    global _installed
    with _lock:
        if _installed == 0:
            table.install(_patcher)
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


class Instrumentation:
    """The tracer's configuration for one app, and what turns a recorder into a trace."""

    def __init__(
        self,
        *,
        on_trace: TraceSink | Iterable[TraceSink] | None = None,
        tracer_provider: Any = None,
        config: TraceConfig | None = None,
    ) -> None:
        if on_trace is None:
            self.sinks: list[TraceSink] = []
        elif callable(on_trace):
            self.sinks = [on_trace]
        else:
            self.sinks = list(on_trace)
        self.tracer_provider = tracer_provider
        self.config = config or TraceConfig()
        #: the opt-in ``/_trace-request/`` endpoint, or None (off)
        self.endpoint: TraceEndpoint | None = None

    def begin(self, scope: Scope) -> Recorder:
        """A recorder for a request that is traced in full."""
        config = self.config
        rec = Recorder(config.max_spans)
        rec.record_sql_parameters = config.record_sql_parameters
        if self.tracer_provider is not None:
            rec.otel_parent = None  # look for an enclosing server span
        rec.request = {
            "method": scope.get("method", ""),
            "path": scope.get("path", ""),
            "query": bytes(scope.get("query_string", b"")).decode("latin-1"),
            "headers": redact_headers(
                decode_headers(scope.get("headers") or ()), config.redact_headers
            ),
            "http_version": scope.get("http_version", ""),
            "scheme": scope.get("scheme", "http"),
        }
        return rec

    def end(self, rec: Recorder) -> None:
        """Build the trace and deliver it; never raises."""
        parent = rec.otel_parent or None
        try:
            trace = build_trace(rec, self.config)
        except Exception as exc:
            report("trace build", exc)
            return
        self.deliver(trace, parent)

    def error_only(
        self, scope: Scope, started: int, status: int, error: BaseException | None
    ) -> None:
        """A root-only trace for an unsampled request that failed; never raises."""
        try:
            rec = self.begin(scope)
            root = rec.open(str(scope.get("method", "HTTP")), "asgi", 1, -1, started)
            root.end = clock.now_ns()
            rec.meta["sampled"] = False
            if status:
                rec.response["status_code"] = status
            if error is not None:
                mark_error(rec, root, error)
            self.end(rec)
        except Exception as exc:
            report("error-only trace", exc)

    def deliver(self, trace: Trace, parent: Any = None) -> None:
        for sink in (*self.sinks, *_global_sinks):
            try:
                sink(trace)
            except Exception as exc:
                report(f"trace sink {getattr(sink, '__name__', type(sink).__name__)}", exc)
        if self.tracer_provider is not None:
            try:
                from tracer.sinks.exporters.otel import export_to_provider

                export_to_provider(trace, self.tracer_provider, parent=parent)
            except Exception as exc:
                report("OpenTelemetry export", exc)


def build_trace(rec: Recorder, config: TraceConfig) -> Trace:
    """Name the root span and give it the HTTP semantic-convention attributes."""
    if rec.spans:
        root = rec.spans[0]
        method = str(rec.request.get("method", ""))
        route = rec.request.get("route")
        root.name = f"{method} {route or rec.request.get('path', '')}".strip()
        root.set("http.request.method", method)
        root.set("url.path", rec.request.get("path", ""))
        if rec.request.get("query"):
            root.set("url.query", rec.request["query"])
        if route:
            root.set("http.route", route)
        status = rec.response.get("status_code")
        if status is not None:
            root.set("http.response.status_code", status)
            if status >= 500:
                root.status = "error"
        if rec.response_origin:
            root.set("trace_request.response_origin", rec.response_origin)
        if rec.response_end >= 0:
            root.set("trace_request.response_ns", rec.response_end - root.start)
    if "headers" in rec.response:
        rec.response["headers"] = redact_headers(rec.response["headers"], config.redact_headers)
    return rec.build(config.max_attribute_length)


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
    response_headers: bool = True,
    store: Any = "auto",
    endpoint_secret: bytes | str | None = None,
) -> Any:
    """Trace every HTTP request of a FastAPI or Starlette ``app``; returns the app.

    Call it before or after adding routes and middleware. Calling it again
    only updates the options. ``on_trace`` receives each finished
    :class:`~tracer.model.Trace`; ``tracer_provider`` (an OpenTelemetry
    ``TracerProvider``) receives the spans — the global provider is never
    used implicitly; without one, the standard ``OTEL_EXPORTER_OTLP_*``
    variables configure an OTLP exporter when set. ``store`` keeps the last
    traces in a local SQLite file (``True``, a path, or a ``TraceStore``); by
    default it is on when no exporter is configured. ``endpoint_secret`` (or
    ``TRACE_REQUEST_ENDPOINT_SECRET``) turns on ``GET /_trace-request/traces/{id}``
    for ``trace-request --url`` when the CLI cannot open the store. See
    docs/embedding.md for every option.
    """
    sinks = [on_trace] if callable(on_trace) else list(on_trace or ())
    otlp = None
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
        config=config_from(
            sample_rate=sample_rate,
            always_trace_errors=always_trace_errors,
            trigger_header=trigger_header,
            trigger_secret=trigger_secret,
            exclude_paths=exclude_paths,
            max_spans=max_spans,
            max_attribute_length=max_attribute_length,
            redact_headers=redact_headers,
            record_sql_parameters=record_sql_parameters,
            response_headers=response_headers,
        ),
    )
    options.endpoint = endpoint
    existing: Instrumentation | None = getattr(app, _STATE_ATTR, None)
    if existing is not None:
        existing.__dict__.update(options.__dict__)
        return app
    if not hasattr(app, "build_middleware_stack") or not hasattr(app, "router"):
        raise TypeError(
            f"trace-request can instrument FastAPI and Starlette apps, not {type(app).__name__}"
        )
    _install_hooks()
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
    if getattr(app, _STATE_ATTR, None) is None:
        return app
    delattr(app, _STATE_ATTR)
    if "build_middleware_stack" in vars(app):
        del app.build_middleware_stack
    app.middleware_stack = None
    _uninstall_hooks()
    return app


def is_instrumented(app: Any) -> bool:
    return getattr(app, _STATE_ATTR, None) is not None


class TraceCollector:
    """Collects finished traces; use ``with tracer.capture(app) as traces: ...``."""

    def __init__(self, app: Any = None) -> None:
        self.app = app
        self.traces: list[Trace] = []
        self._lock = threading.Lock()

    def __call__(self, trace: Trace) -> None:
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


def capture(app: Any = None) -> TraceCollector:
    """Collect the traces of requests handled while the ``with`` block runs.

    With ``app``, only that instrumented app's requests; without, every
    instrumented app's.
    """
    return TraceCollector(app)


class TraceRequestMiddleware:
    """``app.add_middleware(TraceRequestMiddleware)`` for those who prefer middleware.

    It traces every layer *inside* it; ServerErrorMiddleware sits outside all
    user middleware, so a 500 it builds is seen only as an exception leaving
    this layer. :func:`instrument` sees the whole stack and is preferred.
    """

    def __init__(self, app: ASGIApp, **options: Any) -> None:
        from starlette.routing import Router

        _install_hooks()
        self.instrumentation = Instrumentation(**options)
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
