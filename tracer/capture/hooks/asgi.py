"""ASGI probes: the server edge (step 1 and 9) and one probe between each middleware layer.

:func:`wrap_stack` walks the stack built by ``build_middleware_stack`` through each
layer's ``.app`` and inserts a :class:`LayerProbe` above every layer, so each
layer gets its own span (request path: entry until the next probe; response
path: a message entering the layer's ``send`` until it leaves). Probes keep no
per-request state on ``self``: everything lives in the request's recorder.
"""

from __future__ import annotations

from collections.abc import Awaitable
from contextvars import Token
from typing import Any, Protocol

from tracer.capture import clock, lifespan, recorder
from tracer.capture.config import TraceConfig
from tracer.capture.hooks import edge_io, gaps, routing
from tracer.capture.recorder import MAX_LIST_ITEMS, RawSpan, Recorder
from tracer.capture.recorder import current as _current
from tracer.capture.recorder import parent as _parent
from tracer.redaction import header_name
from tracer.safety import report, warn_once
from tracer.sinks.endpoint import EndpointGate, TraceEndpoint, is_endpoint_path
from tracer.types import ASGIApp, Message, Receive, Scope, Send


class Tracing(Protocol):
    """What the edge probe needs of an app's tracing setup
    (:class:`tracer.capture.instrumentation.Instrumentation`; a protocol, so
    this module does not import the one that imports it)."""

    config: TraceConfig
    endpoint: TraceEndpoint | None

    def begin(self, scope: Scope) -> Recorder: ...

    def end(self, rec: Recorder) -> None: ...

    def error_only(
        self, scope: Scope, started: int, status: int, error: BaseException | None
    ) -> None: ...

    def shutdown(self) -> None: ...


def layer_name(layer: object) -> str:
    """A readable name: the class, or the function behind ``@app.middleware("http")``."""
    cls = type(layer)
    if cls.__name__ == "BaseHTTPMiddleware":
        func = getattr(layer, "dispatch_func", None)
        name = getattr(func, "__name__", None)
        if isinstance(name, str) and name != "dispatch":
            return name
    return cls.__name__


class LayerProbe:
    """Sits above one layer (a middleware or the router) and times it.

    ``__call__`` is a plain function returning the awaitable: a request that
    is not traced costs one call and no extra coroutine frame per layer.
    """

    __slots__ = ("app", "depth", "is_router", "name", "receive_owner", "response_name")

    def __init__(
        self,
        app: ASGIApp,
        name: str,
        depth: int,
        *,
        is_router: bool = False,
        receive_owner: str | None = None,
    ) -> None:
        self.app = app
        self.name = name
        self.response_name = f"{name} response"
        self.depth = depth
        self.is_router = is_router
        #: the layer above wraps ``receive`` (BaseHTTPMiddleware): time it as that layer's
        self.receive_owner = receive_owner

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        rec = _current.get()
        if rec is None or scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._traced(rec, scope, receive, send)

    async def _traced(self, rec: Recorder, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            span, token = self._enter(rec)
            inner_send = self._wrap_send(rec, span, send)
            if self.receive_owner is not None:
                receive = gaps.layer_receive(rec, self.receive_owner, receive)
        except Exception as exc:
            report("middleware probe", exc)
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, inner_send)
        except BaseException as exc:
            self._exit(rec, span, token, exc)
            raise
        if self.is_router or rec.last_layer is span:
            self._exit(rec, span, token, None)
            return
        # the common case, inlined: a middleware layer that returned
        span.end = clock.now_ns()
        try:
            _parent.reset(token)
        except ValueError:  # reset from another context (should not happen); keep going
            _parent.set(span.parent)

    def _enter(self, rec: Recorder) -> tuple[RawSpan, Token[int]]:
        now = clock.now_ns()
        last = rec.last_layer
        if last is not None:
            # layer spans are opened with an attribute dict, and this value is short
            last.attributes["middleware.request_ns"] = now - last.start  # type: ignore[index]
            rec.last_layer = None
        if self.is_router:
            if rec.otel_parent is None:
                rec.otel_parent = _current_otel_span_context()
            span = rec.open("router", "routing", 3, _parent.get(), now)
            if routing.hooked:
                rec.pending_match = rec.open("match", "routing", 3, span.index, now)
        else:
            span = rec.open(
                self.name, "middleware", 2, _parent.get(), now, {"middleware.depth": self.depth}
            )
            rec.last_layer = span
        return span, _parent.set(span.index)

    def _exit(
        self, rec: Recorder, span: RawSpan, token: Token[int], error: BaseException | None
    ) -> None:
        try:
            if self.is_router:
                match = rec.pending_match
                if match is not None and match.parent == span.index:
                    # no route's handler started: the router answered by itself
                    match.end = clock.now_ns()
                    rec.pending_match = None
                    status = (span.attributes or {}).get("routing.response_status")
                    if status is None:  # FastAPI's router raises HTTPException(404/405)
                        status = getattr(error, "status_code", None)
                    if status is not None:
                        span.set("routing.status", status)
                        match.set("routing.status", status)
            elif rec.last_layer is span:
                rec.last_layer = None
        except Exception as exc:
            report("middleware probe", exc)
        recorder.finish((rec, span, token), error)

    def _wrap_send(self, rec: Recorder, span: RawSpan, send: Send) -> Send:
        name = self.name
        response_name = self.response_name
        is_router = self.is_router
        index = span.index

        def probe_send(message: Message) -> Awaitable[None]:
            # a plain function handing back ``send``'s awaitable: no coroutine frame per
            # message per layer (the bookkeeping is synchronous)
            try:
                if message["type"] == "http.response.start":
                    now = clock.now_ns()
                    if rec.response_origin is None:
                        rec.response_origin = name
                    names = _header_names(rec, message.get("headers"))
                    if is_router:
                        span.set("routing.response_status", message.get("status"))
                        # what the route built; names are short and bounded: no cut to check
                        if span.attributes is None:
                            span.attributes = {}
                        span.attributes[HEADER_NAMES] = names
                    else:
                        start = rec.msg_t if 0 <= rec.msg_t <= now else now
                        out = rec.open(
                            response_name,
                            "middleware",
                            8,
                            index,
                            start,
                            {
                                "http.response.status_code": message.get("status"),
                                HEADER_NAMES: names,
                            },
                        )
                        out.end = now
                    rec.msg_t = clock.now_ns()  # after our own bookkeeping: not the layer's
            except Exception as exc:
                report("middleware probe", exc)
            return send(message)

        return probe_send


#: on the router span and each ``'<layer> response'`` span: the response's header names
#: as ``http.response.start`` left it (what each layer added or removed, by difference)
HEADER_NAMES = "http.response.header_names"


def _header_names(rec: Recorder, headers: Any) -> list[str]:
    """Lower-cased header names of a response start message, bounded.

    Most layers pass the message on unchanged, so the previous layer's list is
    reused when the raw names are the same: a tuple comparison, not a decode.
    """
    raw = tuple([pair[0] for pair in headers or ()])
    if raw == rec.header_raw:
        return rec.header_names
    names = [header_name(bytes(n)) for n in raw[:MAX_LIST_ITEMS]]
    rec.header_raw, rec.header_names = raw, names
    return names


class EdgeProbe:
    """The outermost wrapper: starts the request's recorder and times receive/send."""

    __slots__ = ("app", "instrumentation")

    def __init__(self, app: ASGIApp, instrumentation: Tracing) -> None:
        self.app = app
        self.instrumentation = instrumentation

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or recorder.current.get() is not None:
            # websockets pass through; a mounted instrumented app nests
            if scope["type"] == "lifespan":  # two traces of its own, then the exporters flushed
                await lifespan.run(self.app, scope, receive, send, self.instrumentation)
                return
            await self.app(scope, receive, send)
            return
        instrumentation = self.instrumentation
        if instrumentation.endpoint is not None and is_endpoint_path(scope):
            # never traced; answered by the EndpointGate after the app's own middleware
            await self.app(scope, receive, send)
            return
        try:
            decision = instrumentation.config.decide(scope)
            rec = instrumentation.begin(scope) if decision in ("trace", "triggered") else None
            if rec is not None and decision == "triggered":
                rec.meta["triggered"] = True
            if rec is not None:
                root = rec.open(str(scope.get("method", "HTTP")), "asgi", 1, -1)
                traced_receive = edge_io.wrap_receive(rec, receive)
                traced_send = edge_io.wrap_send(rec, send, instrumentation.config.response_headers)
        except Exception as exc:
            report("request start", exc)
            decision, rec = "skip", None
        if rec is None:
            if decision == "errors":
                await self._watch_for_errors(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        token = recorder.current.set(rec)
        parent_token = recorder.parent.set(root.index)
        try:
            await self.app(scope, traced_receive, traced_send)
        except BaseException as exc:
            try:
                recorder.mark_error(rec, root, exc)
            except Exception as error:
                report("request end", error)
            raise
        finally:
            root.end = clock.now_ns()
            recorder.parent.reset(parent_token)
            recorder.current.reset(token)
            instrumentation.end(rec)

    async def _watch_for_errors(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An unsampled request: no recording, but a 5xx or an exception still leaves a trace."""
        started = clock.now_ns()
        status = [0]

        async def watch_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message.get("status", 0)
            await send(message)

        try:
            await self.app(scope, receive, watch_send)
        except BaseException as exc:
            self.instrumentation.error_only(scope, started, status[0], exc)
            raise
        if status[0] >= 500:
            self.instrumentation.error_only(scope, started, status[0], None)


def _current_otel_span_context() -> Any:
    """The server span another instrumentation (FastAPI's own, OTel contrib) has open, if any.

    Read at the router, inside every middleware, so it is found whichever of
    us wrapped the stack first.
    """
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return context if context.is_valid else False


def _wraps_receive(layer: object) -> bool:
    """BaseHTTPMiddleware hands the app below a ``receive`` that runs a task group per call."""
    from starlette.middleware.base import BaseHTTPMiddleware

    return isinstance(layer, BaseHTTPMiddleware)


def wrap_stack(stack: ASGIApp, router: object, instrumentation: Tracing) -> ASGIApp:
    """Insert a probe above every layer of ``stack``, the trace endpoint's gate just
    above the router, and an edge probe on top."""
    if stack is router:
        probe = LayerProbe(stack, layer_name(stack), 0, is_router=True)
        return EdgeProbe(EndpointGate(probe, instrumentation), instrumentation)
    top = LayerProbe(stack, layer_name(stack), 0, is_router=False)
    layer: Any = stack
    depth = 0
    while layer is not router:
        inner = getattr(layer, "app", None)
        if inner is None or not callable(inner):
            warn_once(
                f"opaque:{type(layer).__name__}",
                f"{type(layer).__name__} keeps no .app attribute: the layers below it "
                "(routing included) are timed as one.",
            )
            break
        depth += 1
        probe = LayerProbe(
            inner,
            layer_name(inner),
            depth,
            is_router=inner is router,
            receive_owner=layer_name(layer) if _wraps_receive(layer) else None,
        )
        layer.app = EndpointGate(probe, instrumentation) if inner is router else probe
        layer = inner
    return EdgeProbe(top, instrumentation)
