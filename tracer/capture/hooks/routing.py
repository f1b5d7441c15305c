"""The route hooks: ``Route.handle`` / ``APIRoute.handle`` and ``Mount.handle`` (step 3).

``Route.handle`` ends the router probe's ``match`` span, opens
``route {template}`` and wraps the route's ``send`` to note which layer built
the response. The template is the one FastAPI itself resolves: from 0.137
``include_router`` no longer copies routes, so the original ``APIRoute``
handles the request and the prefixed ``path_format`` lives on the *effective
route context* FastAPI put in the scope for it; before, the copied route has
it. ``Mount.handle`` adds the mount's path to the prefix of every template
resolved inside it (a contextvar, so it is scoped to the mount's call) and
opens a span named after the mounted app (``StaticFiles /static``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
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

#: FastAPI's ``_get_scope_effective_route_context(scope)`` (0.137+), bound by the table.
effective_context: Callable[[Scope], Any] | None = None

#: The paths of the mounts the current request went through (``/admin``), joined.
mount_prefix: ContextVar[str] = ContextVar("trace_request_mount_prefix", default="")
#: Name of the mounted app serving the current request (``StaticFiles``), if any.
mount_owner: ContextVar[str | None] = ContextVar("trace_request_mount_owner", default=None)


def bind_effective_context(original: Callable[[Scope], Any], binding: Binding) -> None:
    """Reader row: keep FastAPI's accessor (nothing is patched)."""
    global effective_context
    effective_context = original


def route_template(route: Any, scope: Scope) -> str:
    """The route's template as FastAPI resolved it for this request (mount prefix included)."""
    path = None
    if effective_context is not None:
        context = effective_context(scope)
        if context is not None and getattr(context, "original_route", None) is route:
            path = (
                getattr(getattr(context, "starlette_route", None), "path_format", None)
                or context.path_format
            )
    if not path:
        path = getattr(route, "path_format", None) or getattr(route, "path", "?")
    return mount_prefix.get() + str(path)


def wrap_handle(original: Callable[..., Any], binding: Binding) -> Callable[..., Any]:
    async def handle(self: Any, scope: Scope, receive: Receive, send: Send) -> None:
        rec = recorder.current.get()
        if rec is None or scope["type"] != "http":
            await original(self, scope, receive, send)
            return
        handle_ = None
        try:
            template = route_template(self, scope)
            if not _in_route(rec, template):
                handle_, send = _enter_route(rec, self, template, send)
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


def _in_route(rec: Recorder, template: str) -> bool:
    """True inside ``APIRoute.handle`` calling ``Route.handle`` (``super()``) for the same route."""
    index = recorder.parent.get()
    if not 0 <= index < len(rec.spans):
        return False
    span = rec.spans[index]
    return span.phase == "routing" and span.name == f"route {template}"


def _end_match(rec: Recorder, template: str, endpoint: str) -> None:
    match = rec.pending_match
    if match is None:
        return
    match.end = clock.now_ns()
    rec.pending_match = None
    match.set("http.route", template)
    match.set("routing.endpoint", endpoint)
    if 0 <= match.parent < len(rec.spans):
        router = rec.spans[match.parent]
        router.set("http.route", template)
        router.set("routing.endpoint", endpoint)


def _enter_route(
    rec: Recorder, route: Any, template: str, send: Send
) -> tuple[Handle | None, Send]:
    endpoint = call_name(getattr(route, "endpoint", None) or route)
    _end_match(rec, template, endpoint)
    rec.request["route"] = template
    handle = recorder.start(f"route {template}", "routing", 3)
    if handle is None:
        return None, send
    handle[1].set("http.route", template)
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


def mounted_app_name(mount: Any) -> str:
    """The class of the app a mount serves (``StaticFiles``), under its own middleware."""
    app = getattr(mount, "_base_app", None) or getattr(mount, "app", None)
    return type(app).__name__


def _is_router_app(app: Any) -> bool:
    return hasattr(app, "routes") or hasattr(app, "router")


def wrap_mount(original: Callable[..., Any], binding: Binding) -> Callable[..., Any]:
    """``Mount.handle``: a span for the mounted app; templates inside it get its path."""

    async def handle(self: Any, scope: Scope, receive: Receive, send: Send) -> None:
        rec = recorder.current.get()
        if rec is None or scope["type"] != "http":
            await original(self, scope, receive, send)
            return
        handle_ = None
        tokens: tuple[Any, ...] = ()
        try:
            prefix = mount_prefix.get() + str(getattr(self, "path", ""))
            owner = mounted_app_name(self)
            template = prefix + "/{path}"  # until a route inside resolves more (FastAPI's rule)
            _end_match(rec, template, owner)
            rec.request["route"] = template
            inner = getattr(self, "_base_app", None) or self.app
            routing_app = _is_router_app(inner)
            handle_ = recorder.start(
                f"{owner} {prefix or '/'}",
                "routing" if routing_app else "handler",
                3 if routing_app else 6,
            )
            if handle_ is not None:
                span = handle_[1]
                span.set("mount.path", prefix or "/")
                span.set("mount.app", owner)
                span.set("http.route", template)
            tokens = (mount_prefix.set(prefix), mount_owner.set(None if routing_app else owner))
        except Exception as exc:
            report("mount hook", exc)
        try:
            await original(self, scope, receive, send)
        except BaseException as exc:
            if handle_ is not None:
                recorder.finish(handle_, exc)
            raise
        finally:
            if tokens:
                mount_owner.reset(tokens[1])
                mount_prefix.reset(tokens[0])
        if handle_ is not None:
            recorder.finish(handle_)

    return handle
