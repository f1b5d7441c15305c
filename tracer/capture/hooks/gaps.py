"""Hooks that name time no phase hook covers: first-call costs and a middleware's receive.

Each span here carries ``gap.cause`` (the analysis treats such a span as
naming the gap it fills) and, for costs paid once per process or endpoint,
``gap.first_call=True``. They cost one contextvar read on a traced request and
nothing more on a warm one: the endpoint inspection is recorded only when
FastAPI's own cache misses, the backend import is only called on a miss.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracer.capture import clock, recorder
from tracer.capture.hooks.points import Binding, HookMismatch
from tracer.capture.recorder import RawSpan, Recorder
from tracer.safety import report
from tracer.types import Message, Receive

ENDPOINT_INSPECTION = "endpoint inspection (first call)"


def _inherit(rec: Recorder, span: RawSpan) -> None:
    """Take the phase and step of the span it runs under (its time is that phase's)."""
    if 0 <= span.parent < len(rec.spans):
        owner = rec.spans[span.parent]
        span.phase, span.step = owner.phase, owner.step


def wrap_endpoint_inspection(original: Callable[..., Any], binding: Binding) -> Callable[..., Any]:
    """``fastapi.routing._extract_endpoint_context(func)`` (0.124+): the first call per
    endpoint reads its source file (``inspect.getsourcelines``); later calls hit a cache."""
    cache = getattr(original, "__globals__", {}).get("_endpoint_context_cache")
    if not isinstance(cache, dict):
        raise HookMismatch("keeps no _endpoint_context_cache")

    def extract_endpoint_context(func: Any) -> Any:
        if recorder.current.get() is None or id(func) in cache:
            return original(func)
        handle = recorder.start(ENDPOINT_INSPECTION, "routing", 3)
        if handle is None:
            return original(func)
        try:
            handle[1].set("gap.first_call", True)
            handle[1].set("gap.cause", "endpoint inspection")
            handle[1].set("code.function", str(getattr(func, "__qualname__", "?")))
        except Exception as exc:
            report("endpoint inspection hook", exc)
        try:
            return original(func)
        finally:
            recorder.finish(handle)

    return extract_endpoint_context


def wrap_backend_import(original: Callable[..., Any], binding: Binding) -> Callable[..., Any]:
    """``import_module`` as anyio's ``get_async_backend`` uses it: only called when the event
    loop's backend is not loaded yet (the first cancel scope, task group or thread hop)."""

    def import_module(name: str, *args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        if rec is None:
            return original(name, *args, **kwargs)
        handle = recorder.start("anyio backend import (first call)", "handler", 6)
        if handle is None:
            return original(name, *args, **kwargs)
        try:
            _inherit(rec, handle[1])
            handle[1].set("gap.first_call", True)
            handle[1].set("gap.cause", "import on first use")
            handle[1].set("code.namespace", name)
        except Exception as exc:
            report("anyio backend hook", exc)
        try:
            return original(name, *args, **kwargs)
        finally:
            recorder.finish(handle)

    return import_module


def layer_receive(rec: Recorder, layer: str, receive: Receive) -> Receive:
    """``receive`` as a layer that wraps it (BaseHTTPMiddleware: a task group per message)
    passes it down: a span from the call until the message is back, with the server's
    ``receive`` nested, so the layer's own work is its own time, not the body read's."""

    async def traced_receive() -> Message:
        span = None
        token = None
        try:
            span = rec.open(f"{layer} receive", "middleware", 2, recorder.parent.get())
            span.set("gap.cause", "middleware receive")
            span.set("middleware.layer", layer)
            token = recorder.parent.set(span.index)
        except Exception as exc:
            report("middleware receive probe", exc)
        message: Message | None = None
        try:
            message = await receive()
            return message
        finally:
            if span is not None:
                span.end = clock.now_ns()
                kind = message.get("type") if message is not None else None
                if kind != "http.request" and span.attributes:  # waited for a disconnect:
                    span.name = f"{layer} receive {kind or '(cancelled)'}"  # not its own work
                    span.attributes.pop("gap.cause", None)
            if token is not None:
                try:
                    recorder.parent.reset(token)
                except ValueError:
                    pass

    return traced_receive
