"""Outbound HTTP through ``httpx``: one ``outbound`` span per request a client sends.

Hooked at ``httpx.Client.send`` / ``httpx.AsyncClient.send`` (every ``get``,
``post``, ``request`` and ``stream`` goes through them). The span records the
method, a URL template (scheme, host, path with value-like segments hidden,
query names without values: nothing the app or its client supplied), the
status, request and response sizes, the time to the response headers (first
byte) and the body read, and an error or time-out. The wrapper asks the
original for a streamed response and reads the body itself, exactly as
``send`` does, so the two parts are timed apart. Where the transport is
httpcore's, its ``trace`` extension adds the connection's story (new or
reused, TCP connect, TLS) and the wait before the request went out (pool wait
plus request preparation: httpcore 1.0 has no pool-acquire event).

The request carries the W3C ``traceparent`` of its span, unless it already
has one or the app was instrumented with ``propagate=False``; the header (and
the trace extension) is taken off the request object again afterwards. While
the call runs, this request's recorder is not current: a callee served in the
same process (``httpx.ASGITransport``) is another service whose work is its
own trace, not spans of ours.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tracer.capture import clock, recorder
from tracer.capture.hooks.points import Binding
from tracer.capture.recorder import RawSpan, Recorder
from tracer.redaction import HIDDEN, scrub_url
from tracer.safety import report

KIND = "outbound HTTP hook"
#: path segments that are values even when short: numbers, UUIDs, hex ids
_VALUE_SEGMENT = re.compile(r"^(?:\d+|[0-9a-fA-F-]{16,})$")
_HTTPCORE_EVENTS = {
    "connection.connect_tcp.started": "connect",
    "connection.connect_tcp.complete": "connected",
    "connection.start_tls.started": "tls",
    "connection.start_tls.complete": "tls_done",
    "http11.send_request_headers.started": "sent",
    "http2.send_request_headers.started": "sent",
    "http11.receive_response_headers.complete": "headers",
    "http2.receive_response_headers.complete": "headers",
}


def url_template(url: str) -> str:
    """``https://api.example/users/…/orders?page=…``: what a trace may hold of a URL."""
    scrubbed = scrub_url(url)
    scheme, sep, rest = scrubbed.partition("://")
    if not sep:
        scheme, rest = "", scrubbed
    authority, slash, tail = rest.partition("/")
    path, q, query = tail.partition("?")
    segments = [HIDDEN if _VALUE_SEGMENT.match(s) else s for s in path.split("/")]
    out = f"{scheme}{sep}{authority}{slash}{'/'.join(segments)}"
    return out + (q + query if q else "")


class _Call:
    """One outbound request being recorded (the span, and what the request had before)."""

    __slots__ = ("added", "events", "previous", "rec", "request", "span")

    def __init__(self, rec: Recorder, span: RawSpan, request: Any) -> None:
        self.rec = rec
        self.span = span
        self.request = request
        self.events: dict[str, int] = {}
        self.added = False
        self.previous: Any = None

    def on_event(self, name: str) -> None:
        key = _HTTPCORE_EVENTS.get(name)
        if key is not None and key not in self.events:
            self.events[key] = clock.now_ns()


def _begin(rec: Recorder, request: Any, asynchronous: bool) -> _Call | None:
    """Open the span, propagate the trace, attach the httpcore trace callback."""
    try:
        url = request.url
        method = str(request.method)
        template = url_template(str(url))
        host = str(url.host or "")
        path = template.partition("://")[2].partition("/")[2].partition("?")[0]
        parent = recorder.parent.get()
        step = rec.spans[parent].step if 0 <= parent < len(rec.spans) else 6
        span = rec.open(f"{method} {host}/{path}", "outbound", step, parent)
        span.set("http.request.method", method)
        span.set("url.full", template)
        span.set("server.address", host)
        if url.port is not None:
            span.set("server.port", url.port)
        size = request.headers.get("content-length")
        if size is not None and size.isdigit():
            span.set("http.request.body.size", int(size))
        call = _Call(rec, span, request)
        if rec.propagate and "traceparent" not in request.headers:
            request.headers["traceparent"] = _traceparent(rec, span)
            state = rec.meta.get("tracestate")
            if isinstance(state, str) and state and "tracestate" not in request.headers:
                request.headers["tracestate"] = state
            call.added = True
            span.set("outbound.propagated", True)
        _attach_trace(call, asynchronous)
        return call
    except Exception as exc:
        report(KIND, exc)
        return None


def _traceparent(rec: Recorder, span: RawSpan) -> str:
    """``00-<trace>-<span>-01``: under another instrumentation's server span, its trace."""
    trace_id = rec.trace_id
    outer = getattr(rec.otel_parent, "trace_id", None)
    if isinstance(outer, int) and outer:
        trace_id = f"{outer:032x}"
    return f"00-{trace_id}-{rec.span_id(span)}-01"


def _attach_trace(call: _Call, asynchronous: bool) -> None:
    """httpcore's ``trace`` extension, chained to one the app set itself."""
    extensions = call.request.extensions
    previous = extensions.get("trace")
    call.previous = previous
    if asynchronous:

        async def atrace(name: str, info: dict[str, Any]) -> None:
            call.on_event(name)
            if previous is not None:
                await previous(name, info)

        extensions["trace"] = atrace
    else:

        def trace(name: str, info: dict[str, Any]) -> None:
            call.on_event(name)
            if previous is not None:
                previous(name, info)

        extensions["trace"] = trace


def _restore(call: _Call) -> None:
    """The request object as the app built it (it may be sent again, traced or not)."""
    request = call.request
    if call.previous is None:
        request.extensions.pop("trace", None)
    else:
        request.extensions["trace"] = call.previous
    if call.added:
        request.headers.pop("traceparent", None)
        if request.headers.get("tracestate") == call.rec.meta.get("tracestate"):
            request.headers.pop("tracestate", None)


def _headers_in(call: _Call, response: Any) -> None:
    """Response headers received: status and time to first byte."""
    span, now = call.span, clock.now_ns()
    span.set("outbound.ttfb_ns", now - span.start)
    code = int(response.status_code)
    span.set("http.response.status_code", code)
    if code >= 400:  # an HTTP client span fails on 4xx and 5xx (OpenTelemetry)
        span.status = "error"
        span.set("error.type", str(code))
    events = call.events
    if events:
        span.set("outbound.connection", "new" if "connect" in events else "reused")
        first = min(events.get("connect", now), events.get("sent", now))
        span.set("outbound.pool_wait_ns", max(0, first - span.start))
        if "connect" in events and "connected" in events:
            span.set("outbound.connect_ns", events["connected"] - events["connect"])
        if "tls" in events and "tls_done" in events:
            span.set("outbound.tls_ns", events["tls_done"] - events["tls"])


def _finish(call: _Call, response: Any, streamed: bool) -> None:
    span = call.span
    span.end = end = clock.now_ns()
    ttfb = span.attributes.get("outbound.ttfb_ns") if span.attributes else None
    if streamed:
        span.set("outbound.streamed", True)
        size = response.headers.get("content-length")
        if size is not None and size.isdigit():
            span.set("http.response.body.size", int(size))
        return
    if isinstance(ttfb, int):
        span.set("outbound.body_read_ns", max(0, end - span.start - ttfb))
    span.set("http.response.body.size", int(response.num_bytes_downloaded))


def _failed(call: _Call, error: BaseException) -> None:
    span = call.span
    recorder.mark_error(call.rec, span, error)
    span.set("error.type", type(error).__qualname__)
    if any(c.__name__ == "TimeoutException" for c in type(error).__mro__):
        span.set("outbound.timeout", True)
    span.end = clock.now_ns()


def _quietly(func: Callable[..., None], *args: Any) -> None:
    try:
        func(*args)
    except Exception as exc:
        report(KIND, exc)


def wrap_async_send(original: Callable[..., Any], binding: Binding) -> Callable[..., Any]:
    """``httpx.AsyncClient.send(self, request, *, stream=False, ...)``."""

    async def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        if rec is None:
            return await original(self, request, *args, **kwargs)
        call = _begin(rec, request, asynchronous=True)
        if call is None:
            return await original(self, request, *args, **kwargs)
        streamed = bool(kwargs.get("stream", False))
        token = recorder.current.set(None)  # a callee in this process traces itself
        try:
            response = await original(self, request, *args, **{**kwargs, "stream": True})
            _quietly(_headers_in, call, response)
            if not streamed:
                try:
                    await response.aread()
                except BaseException:
                    await response.aclose()
                    raise
        except BaseException as exc:
            recorder.current.reset(token)
            _quietly(_restore, call)
            _quietly(_failed, call, exc)
            raise
        recorder.current.reset(token)
        _quietly(_restore, call)
        _quietly(_finish, call, response, streamed)
        return response

    return send


def wrap_sync_send(original: Callable[..., Any], binding: Binding) -> Callable[..., Any]:
    """``httpx.Client.send(self, request, *, stream=False, ...)``."""

    def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        if rec is None:
            return original(self, request, *args, **kwargs)
        call = _begin(rec, request, asynchronous=False)
        if call is None:
            return original(self, request, *args, **kwargs)
        streamed = bool(kwargs.get("stream", False))
        token = recorder.current.set(None)
        try:
            response = original(self, request, *args, **{**kwargs, "stream": True})
            _quietly(_headers_in, call, response)
            if not streamed:
                try:
                    response.read()
                except BaseException:
                    response.close()
                    raise
        except BaseException as exc:
            recorder.current.reset(token)
            _quietly(_restore, call)
            _quietly(_failed, call, exc)
            raise
        recorder.current.reset(token)
        _quietly(_restore, call)
        _quietly(_finish, call, response, streamed)
        return response

    return send
