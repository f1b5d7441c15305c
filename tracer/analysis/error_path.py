"""The error path of a failed request: what was raised, who caught it, what it built.

FastAPI answers a 4xx by *raising* (``RequestValidationError`` when
validation fails, ``HTTPException`` from a dependency or handler) and letting
an exception handler build the response; an unhandled exception becomes a 500
built by ``ServerErrorMiddleware`` outside every user layer. The trace records
each part separately (exception events, ``validation.error_count``, the
``trace_request.response_origin`` of the response, the render span or the
layer's response span), so a lesson needs them joined here, once, for every
renderer.

The handler is the span capture records around the exception handler's call
(``handler.name``, ``exception.type``: FastAPI's
``request_validation_exception_handler`` or the app's own); a trace recorded
without it (an older one, a handler registered for a status code) names the
handler by the exception it handles.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracer.model import Span, Trace

#: what FastAPI raises when request validation collected errors (never recorded as an event)
VALIDATION_ERROR = "RequestValidationError"
#: the attribute of the span capture records around an exception handler's call
HANDLER_NAME = "handler.name"


@dataclass(frozen=True, slots=True)
class ErrorPath:
    """Raise → catch → response, as the trace recorded it."""

    exception: str
    message: str
    #: the span the exception came from (the failing validation span, or the raiser)
    raised_in: Span
    raised_ns: int
    #: drawn as a row of its own (an exception event is already drawn where it was recorded)
    raise_drawn: bool
    catcher: str
    catcher_span: Span | None
    #: the span that built the error response: a ``render …`` span or a layer's response span
    response: Span | None
    status: int | None
    body_bytes: int | None
    #: the exception handler's span (``handler.name``), when capture recorded one
    handler_span: Span | None = None

    @property
    def handler(self) -> str:
        """``request_validation_exception_handler`` as recorded, else ``RequestValidationError
        handler``; ``ServerErrorMiddleware`` for an unhandled one."""
        if self.catcher == "ServerErrorMiddleware":
            return self.catcher
        if self.handler_span is not None:
            name = self.handler_span.attributes.get(HANDLER_NAME)
            if isinstance(name, str) and name:
                return name
        return f"{self.exception} handler"


def find_error_path(trace: Trace) -> ErrorPath | None:
    """The error path of ``trace``, or ``None`` when it answered < 400 or nothing was raised."""
    status = trace.status_code
    root = next((s for s in trace.spans if s.parent_id is None), None)
    if status is None or status < 400 or root is None:
        return None
    by_id = {s.span_id: s for s in trace.spans}
    origin = root.attributes.get("trace_request.response_origin")
    raised = _raised(trace.spans, by_id)
    if raised is None or not isinstance(origin, str):
        return None
    span, exception, message, at, drawn = raised
    catcher = next(
        (s for s in trace.spans if origin in (s.name, s.attributes.get("middleware.class"))), None
    )
    response = _response(trace.spans, by_id, catcher, at)
    handler = next(
        (s for s in trace.spans if HANDLER_NAME in s.attributes and s.start_ns >= span.start_ns),
        None,
    )
    return ErrorPath(
        exception=exception,
        message=message,
        raised_in=span,
        raised_ns=at,
        raise_drawn=drawn,
        catcher=origin,
        catcher_span=catcher,
        response=response,
        status=status,
        body_bytes=_body_bytes(trace.spans, response),
        handler_span=handler,
    )


def _raised(spans: list[Span], by_id: dict[str, Span]) -> tuple[Span, str, str, int, bool] | None:
    """The first exception of the request: an exception event, or failed validation."""
    events = [(e.time_ns, s, e) for s in spans for e in s.events if e.name == "exception"]
    invalid = [s for s in spans if s.phase == "validation" and _int(s, "validation.error_count")]
    if events:
        at, span, event = min(events, key=lambda item: item[0])
        if not invalid or at <= min(s.end_ns for s in invalid):
            kind = str(event.attributes.get("exception.type", "Exception"))
            return span, kind, str(event.attributes.get("exception.message", "")), at, True
    if not invalid:
        return None
    first = min(invalid, key=lambda s: s.start_ns)
    errors = sum(_int(s, "validation.error_count") for s in invalid)
    # FastAPI raises once solve_dependencies has collected every error and returned
    solver = by_id.get(first.parent_id or "")
    at = solver.end_ns if solver is not None and solver.phase == "dependency" else first.end_ns
    message = f"{errors} error" + ("" if errors == 1 else "s")
    return first, VALIDATION_ERROR, message, at, False


def _response(
    spans: list[Span], by_id: dict[str, Span], catcher: Span | None, after: int
) -> Span | None:
    """The span that built the response: rendered inside the catcher after the raise, or
    the catching layer's own response span (``ServerErrorMiddleware response``)."""
    if catcher is None:
        return None
    for span in sorted(spans, key=lambda s: s.start_ns):
        if span.start_ns < after:
            continue
        if HANDLER_NAME in span.attributes:  # the handler's call: what it rendered is inside
            continue
        if span.phase == "serialization" and _inside(span, catcher, by_id):
            return span
        if span.parent_id == catcher.span_id and span.name == f"{catcher.name} response":
            return span
    return None


def _body_bytes(spans: list[Span], response: Span | None) -> int | None:
    if response is not None and isinstance(response.attributes.get("response.bytes"), int):
        return int(response.attributes["response.bytes"])
    sizes = [s.attributes.get("body.bytes") for s in spans if s.name == "send http.response.body"]
    known = [n for n in sizes if isinstance(n, int)]
    return sum(known) if known else None


def _inside(span: Span, ancestor: Span, by_id: dict[str, Span]) -> bool:
    node: Span | None = by_id.get(span.parent_id or "")
    while node is not None:
        if node is ancestor:
            return True
        node = by_id.get(node.parent_id or "")
    return False


def _int(span: Span, key: str) -> int:
    value = span.attributes.get(key)
    return value if isinstance(value, int) else 0


__all__ = ["HANDLER_NAME", "VALIDATION_ERROR", "ErrorPath", "find_error_path"]
