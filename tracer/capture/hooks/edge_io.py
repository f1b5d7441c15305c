"""The server edge's ``receive`` and ``send`` (steps 1 and 9), wrapped once per request.

A ``send`` or a ``receive`` is charged to itself, under the span that awaited
it (the route, a middleware), not also to that span's own time. The response
start message gains ``x-trace-id`` and a W3C ``traceparent`` when configured.
"""

from __future__ import annotations

from typing import Any

from tracer.capture import clock, recorder
from tracer.capture.recorder import Recorder
from tracer.safety import report
from tracer.types import Message, Receive, Send


def wrap_receive(rec: Recorder, receive: Receive) -> Receive:
    async def edge_receive() -> Message:
        start = clock.now_ns()
        message = await receive()
        try:
            kind = message.get("type")
            if kind == "http.request":
                # under the span that awaited it (read body): not also that span's own time
                attributes = {
                    "body.bytes": len(message.get("body", b"")),
                    "more_body": bool(message.get("more_body", False)),
                }
                span = rec.open(
                    "receive http.request", "asgi", 1, recorder.parent.get(), start, attributes
                )
                span.end = clock.now_ns()
            elif kind == "http.disconnect":
                rec.meta["client_disconnected"] = True
                if rec.spans:
                    rec.spans[0].event("http.disconnect", {})
        except Exception as exc:
            report("receive probe", exc)
        return message

    return edge_receive


_SEND_NAMES = {
    "http.response.start": "send http.response.start",
    "http.response.body": "send http.response.body",
}


def wrap_send(rec: Recorder, send: Send, add_headers: bool) -> Send:
    async def edge_send(message: Message) -> None:
        span = None
        try:
            kind = message["type"]
            # under the span that awaited it (the route, a middleware): its time is the send's,
            # not also that span's own
            attributes: dict[str, Any] = {}
            span = rec.open(
                _SEND_NAMES.get(kind) or f"send {kind}",
                "send",
                9,
                recorder.parent.get(),
                attributes=attributes,
            )
            if kind == "http.response.start":
                if add_headers:
                    message = _with_trace_headers(message, rec)
                status = int(message["status"])
                rec.response["status_code"] = status
                # raw pairs, decoded and redacted when the trace is built
                rec.response["headers"] = tuple(message.get("headers") or ())
                attributes["http.response.status_code"] = status
            elif kind == "http.response.body":
                attributes["body.bytes"] = len(message.get("body", b""))
                more = bool(message.get("more_body", False))
                attributes["more_body"] = more
                if not more:
                    attributes["response.complete"] = True
        except Exception as exc:
            report("send probe", exc)
        try:
            await send(message)
        except BaseException as exc:
            if span is not None:
                _quietly(recorder.mark_error, rec, span, exc)
            raise
        finally:
            if span is not None:
                span.end = clock.now_ns()
                if "response.complete" in attributes:
                    rec.response_end = span.end

    return edge_send


def _with_trace_headers(message: Message, rec: Recorder) -> Message:
    """The start message plus ``x-trace-id`` and a W3C ``traceparent`` (kept if the app set one)."""
    headers = list(message.get("headers") or ())
    headers.append((b"x-trace-id", rec.trace_id.encode()))
    if not any(bytes(name).lower() == b"traceparent" for name, _ in headers):
        headers.append((b"traceparent", f"00-{rec.trace_id}-{rec.root_id}-01".encode()))
    return {**message, "headers": headers}


def _quietly(func: Any, *args: Any) -> None:
    try:
        func(*args)
    except Exception as exc:
        report("send probe", exc)
