"""The route hook: ``Route.handle`` / ``APIRoute.handle`` (step 3, after the router matched).

It ends the router probe's ``match`` span, opens ``route {path}`` and wraps
the route's ``send`` to note which layer built the response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tracer.capture import clock, recorder
from tracer.capture.hooks.naming import call_name
from tracer.capture.hooks.points import Binding
from tracer.capture.hooks.skeleton import Handle, quietly
from tracer.capture.recorder import Recorder
from tracer.safety import report
from tracer.types import Message, Receive, Scope, Send

#: Whether ``Route.handle`` is patched. Without it nothing would end the router probe's
#: ``match`` span when a route is found, so the probe does not open one (no wrong span).
hooked = False


def wrap_handle(original: Callable[..., Any], binding: Binding) -> Callable[..., Any]:
    async def handle(self: Any, scope: Scope, receive: Receive, send: Send) -> None:
        rec = recorder.current.get()
        if rec is None or scope["type"] != "http" or _in_route(rec, self):
            await original(self, scope, receive, send)
            return
        handle_ = None
        try:
            handle_, send = _enter_route(rec, self, send)
        except Exception as exc:
            report("routing hook", exc)
        if handle_ is None:
            await original(self, scope, receive, send)
            return
        try:
            await original(self, scope, receive, send)
        except BaseException as exc:
            if getattr(exc, "status_code", None) == 405:  # path matched, method did not
                quietly("routing hook", handle_[1].set, "routing.status", 405)
            recorder.finish(handle_, exc)
            raise
        recorder.finish(handle_)

    return handle


def _in_route(rec: Recorder, route: Any) -> bool:
    """True inside ``APIRoute.handle`` calling ``Route.handle`` (``super()``) for the same route."""
    index = recorder.parent.get()
    if not 0 <= index < len(rec.spans):
        return False
    span = rec.spans[index]
    return span.phase == "routing" and span.name == f"route {_route_path(route)}"


def _route_path(route: Any) -> str:
    return str(getattr(route, "path_format", None) or getattr(route, "path", "?"))


def _enter_route(rec: Recorder, route: Any, send: Send) -> tuple[Handle | None, Send]:
    path = _route_path(route)
    endpoint = call_name(getattr(route, "endpoint", None) or route)
    match = rec.pending_match
    if match is not None:
        match.end = clock.now_ns()
        rec.pending_match = None
        match.set("http.route", path)
        match.set("routing.endpoint", endpoint)
        if 0 <= match.parent < len(rec.spans):
            router = rec.spans[match.parent]
            router.set("http.route", path)
            router.set("routing.endpoint", endpoint)
    route_prefix = str(rec.request.get("mount_prefix", ""))
    rec.request["route"] = route_prefix + path
    handle = recorder.start(f"route {path}", "routing", 3)
    if handle is None:
        return None, send
    handle[1].set("http.route", path)
    handle[1].set("routing.endpoint", endpoint)
    name = handle[1].name

    def route_send(message: Message) -> Awaitable[None]:  # no coroutine frame of its own
        try:
            if message["type"] == "http.response.start" and rec.response_origin is None:
                rec.response_origin = name
            rec.msg_t = clock.now_ns()
        except Exception as exc:
            report("routing hook", exc)
        return send(message)

    return handle, route_send
