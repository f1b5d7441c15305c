"""Turning a finished recorder into a trace and handing it to the sinks.

:class:`Instrumentation` holds one app's options; the ASGI probe calls
:meth:`~Instrumentation.begin` when a request is traced and
:meth:`~Instrumentation.end` after its response, off the request's critical
path where it can be. What a request may contribute (path, query, headers) is
decided by :mod:`tracer.redaction` here, once, before anything is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tracer.capture import clock
from tracer.capture.config import TraceConfig
from tracer.capture.recorder import Recorder, mark_error
from tracer.model import Trace
from tracer.redaction import recordable_headers, recordable_path, redact_query
from tracer.safety import report
from tracer.sinks.endpoint import TraceEndpoint
from tracer.sinks.exporters.propagation import configured_global_provider, continued_trace
from tracer.types import Scope

TraceSink = Callable[[Trace], None]

#: Sinks of ``tracer.capture()`` blocks opened without an app: every app's traces.
GLOBAL_SINKS: list[TraceSink] = []


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
        #: no provider was chosen: adopt the global one if it is configured later
        self.follow_global = False
        #: the OTLP sink built from ``OTEL_EXPORTER_OTLP_*``, dropped if we adopt the global
        #: provider (it exports there already: sending both would duplicate every span)
        self.env_sink: TraceSink | None = None
        self.config = config or TraceConfig()
        #: the opt-in ``/_trace-request/`` endpoint, or None (off)
        self.endpoint: TraceEndpoint | None = None

    def begin(self, scope: Scope) -> Recorder:
        """A recorder for a request that is traced in full."""
        config = self.config
        rec = Recorder(config.max_spans)
        rec.record_sql_parameters = config.record_sql_parameters
        rec.propagate = config.propagate
        limit = config.max_attribute_length
        if self.tracer_provider is not None:
            rec.otel_parent = None  # look for an enclosing server span
        headers = scope.get("headers") or ()
        if self.tracer_provider is not None or self.env_sink is not None:
            # exported to OpenTelemetry: a valid W3C traceparent continues the caller's trace
            caller = continued_trace(headers)
            if caller is not None:
                rec.trace_id = caller[0].trace_id
                rec.meta["traceparent"] = caller[0].header
                if caller[1]:
                    rec.meta["tracestate"] = caller[1]
        rec.request = {
            "method": scope.get("method", ""),
            "path": str(scope.get("path", "")),  # made recordable once the route is known
            "query": redact_query(
                bytes(scope.get("query_string", b"")).decode("latin-1"),
                values=config.record_url_values,
                limit=limit,
            ),
            "headers": recordable_headers(headers, config.redact_headers, limit=limit),
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

    def shutdown(self) -> None:
        """Flush the sinks that batch (the OTLP export) at app shutdown; never raises."""
        for sink in self.sinks:
            at_shutdown = getattr(sink, "at_shutdown", None)
            if at_shutdown is not None:
                try:
                    at_shutdown()
                except Exception as exc:
                    report("flushing a trace sink at shutdown", exc)

    def deliver(self, trace: Trace, parent: Any = None) -> None:
        if self.follow_global:
            self._adopt_global_provider()
        for sink in (*self.sinks, *GLOBAL_SINKS):
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

    def _adopt_global_provider(self) -> None:
        """Export to a global provider set after :func:`instrument` (once set, it stays)."""
        provider = configured_global_provider()
        if provider is None:
            return
        self.follow_global = False
        self.tracer_provider = provider
        if self.env_sink is not None and self.env_sink in self.sinks:
            self.sinks.remove(self.env_sink)  # still flushed at exit


def build_trace(rec: Recorder, config: TraceConfig) -> Trace:
    """Name the root span and give it the HTTP semantic-convention attributes
    (a lifespan trace has no request: its root keeps its name, ``lifespan startup``)."""
    if rec.spans and rec.meta.get("kind") != "lifespan":
        root = rec.spans[0]
        method = str(rec.request.get("method", ""))
        route = rec.request.get("route")
        path = recordable_path(
            str(rec.request.get("path", "")),
            route,
            values=config.record_url_values,
            limit=config.max_attribute_length,
        )
        rec.request["path"] = path
        root.name = f"{method} {route or path}".strip()
        root.set("http.request.method", method)
        root.set("url.path", path)
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
    if "headers" in rec.response:  # the raw ASGI pairs the edge probe saw
        rec.response["headers"] = recordable_headers(
            rec.response["headers"], config.redact_headers, limit=config.max_attribute_length
        )
    return rec.build(config.max_attribute_length)
