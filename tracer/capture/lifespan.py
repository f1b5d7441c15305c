"""The app's lifespan as two traces of its own: ``lifespan startup`` and ``lifespan shutdown``.

The process lives between the two (hours, days), so they are two traces, not
one trace with two children: each is delivered to the sinks as soon as its
phase ends, marked ``meta["kind"] = "lifespan"``. A recorder is current from
the ``lifespan.startup`` message the app receives until it sends
``lifespan.startup.complete`` (or ``failed``), and again from
``lifespan.shutdown`` to ``lifespan.shutdown.complete``: the DB hooks, the
outbound hooks and the ``on_event`` handler hooks below record into it as
they would into a request's. Between the two the lifespan's context holds no
recorder, so a task spawned at startup never records into a finished trace.

The app sees exactly the messages the server sent and the server exactly the
app's: only ``send`` is held back at shutdown, until the shutdown trace is
delivered and the exporters flushed (the server may exit right after it).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Protocol

from tracer.capture import clock, recorder
from tracer.capture.config import TraceConfig
from tracer.capture.hooks.patching import Patcher
from tracer.capture.recorder import RawSpan, Recorder
from tracer.model import Trace
from tracer.safety import report
from tracer.types import ASGIApp, Message, Receive, Scope, Send

#: Lifespan spans are outside the ten steps of a request.
STEP = 0
KIND = "lifespan"


class Lifespan(Protocol):
    """What the lifespan probe needs of an app's tracing setup (``Instrumentation``)."""

    config: TraceConfig

    def end(self, rec: Recorder) -> None: ...

    def shutdown(self) -> None: ...


def is_lifespan(trace: Trace) -> bool:
    """A startup or shutdown trace, not a request's."""
    return trace.meta.get("kind") == KIND


class _Run:
    """One lifespan scope: the phase being recorded, if any, and what was delivered."""

    __slots__ = ("phase", "rec", "root", "tracing")

    def __init__(self, tracing: Lifespan) -> None:
        self.tracing = tracing
        self.rec: Recorder | None = None
        self.root: RawSpan | None = None
        self.phase = ""

    def begin(self, phase: str, message: Message) -> None:
        """The server asked for ``phase``: a recorder is current until the app answers."""
        try:
            config = self.tracing.config
            rec = Recorder(config.max_spans)
            rec.record_sql_parameters = config.record_sql_parameters
            rec.meta["kind"] = KIND
            rec.meta["lifespan"] = phase
            root = rec.open(f"lifespan {phase}", "lifespan", STEP, -1)
            root.set("lifespan.phase", phase)
            root.event(str(message.get("type")), {})
        except Exception as exc:
            report("lifespan start", exc)
            return
        self.rec, self.root, self.phase = rec, root, phase
        recorder.current.set(rec)
        recorder.parent.set(root.index)

    def answered(self, message: Message) -> None:
        """The app sent ``lifespan.<phase>.complete`` or ``.failed``: the phase is over."""
        root = self.root
        if root is None:
            return
        try:
            kind = str(message.get("type"))
            root.event(kind, {})
            root.set("lifespan.outcome", kind.rpartition(".")[2])
            if kind.endswith(".failed"):
                root.status = "error"
                # Starlette raises right after sending it: wait for the exception itself
                return
        except Exception as exc:
            report("lifespan end", exc)
        self.deliver()

    def failed(self, error: BaseException) -> None:
        """The app raised out of the lifespan (the server reports it; so do we)."""
        rec, root = self.rec, self.root
        if rec is not None and root is not None:
            try:
                recorder.mark_error(rec, root, error)
            except Exception as exc:
                report("lifespan error", exc)
        self.deliver()

    def deliver(self) -> None:
        """Close the phase's root, hand the trace to the sinks, and stop recording."""
        rec, root = self.rec, self.root
        if rec is None or root is None:
            return
        self.rec = self.root = None
        recorder.current.set(None)
        recorder.parent.set(-1)
        root.end = clock.now_ns()
        rec.max_spans = 0  # a task spawned in the phase can no longer grow a delivered trace
        self.tracing.end(rec)


async def run(app: ASGIApp, scope: Scope, receive: Receive, send: Send, tracing: Lifespan) -> None:
    """Call ``app`` for a ``lifespan`` scope, recording startup and shutdown; never changes
    what the app or the server see, and flushes the exporters once the app has shut down."""
    state = _Run(tracing)
    token = recorder.current.set(None)
    parent_token = recorder.parent.set(-1)

    async def lifespan_receive() -> Message:
        message = await receive()
        kind = message.get("type")
        if kind == "lifespan.startup":
            state.begin("startup", message)
        elif kind == "lifespan.shutdown":
            state.begin("shutdown", message)
        return message

    async def lifespan_send(message: Message) -> None:
        kind = message.get("type")
        if kind in _ANSWERS:
            state.answered(message)
        if kind == "lifespan.shutdown.complete":
            # the last moment: a server stopped by SIGTERM may die right after it
            tracing.shutdown()
        await send(message)

    try:
        await app(scope, lifespan_receive, lifespan_send)
    except BaseException as exc:
        phase = state.phase
        state.failed(exc)
        if phase:
            tracing.shutdown()  # the process is about to end: send what we have
        raise
    finally:
        state.deliver()  # an app that returned mid-phase
        recorder.parent.reset(parent_token)
        recorder.current.reset(token)


_ANSWERS = frozenset(
    {
        "lifespan.startup.complete",
        "lifespan.startup.failed",
        "lifespan.shutdown.complete",
        "lifespan.shutdown.failed",
    }
)


# ---------------------------------------------------------------------------
# hooks: ``on_event`` handlers and engine disposal

#: The loops over ``on_startup``/``on_shutdown``: FastAPI 0.12x+ keeps its own
#: (``APIRouter._startup``), Starlette < 1.0 had ``Router.startup``.
_HANDLER_LOOPS = (
    ("fastapi.routing", "APIRouter", "_startup", "on_startup", "startup"),
    ("fastapi.routing", "APIRouter", "_shutdown", "on_shutdown", "shutdown"),
    ("starlette.routing", "Router", "startup", "on_startup", "startup"),
    ("starlette.routing", "Router", "shutdown", "on_shutdown", "shutdown"),
)


def install(patcher: Patcher) -> None:
    """Patch the ``on_event`` handler loops this version has, and ``Engine.dispose``."""
    import importlib

    for module_name, owner_name, attr, handlers, phase in _HANDLER_LOOPS:
        try:
            owner = getattr(importlib.import_module(module_name), owner_name)
        except (ImportError, AttributeError):
            continue
        if attr in vars(owner):  # absent in this version: nothing to warn about
            patcher.patch(owner, attr, _wrap_loop(handlers, phase), phase=f"{phase} handlers")
    try:
        from sqlalchemy.engine import Engine
    except ImportError:
        return
    patcher.patch(Engine, "dispose", _wrap_dispose, phase="db (engine dispose)")


def _wrap_loop(attr: str, phase: str) -> Callable[[Any], Any]:
    """``router._startup()`` with each handler in ``router.on_startup`` timed as a span."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        async def loop(self: Any) -> None:
            handlers = getattr(self, attr, None)
            if recorder.current.get() is None or not isinstance(handlers, list):
                await original(self)
                return
            try:
                setattr(self, attr, [_timed(handler, phase) for handler in handlers])
            except Exception as exc:
                report("lifespan handler hook", exc)
            try:
                await original(self)
            finally:
                setattr(self, attr, handlers)

        return loop

    return wrap


def _timed(handler: Any, phase: str) -> Any:
    """``handler`` as a span (same sync/async kind, so the loop calls it the same way)."""
    name = getattr(handler, "__qualname__", None) or type(handler).__name__

    def opened() -> tuple[Recorder, RawSpan, Any] | None:
        handle = recorder.start(str(name), "handler", STEP)
        if handle is not None:
            handle[1].set("lifespan.handler", phase)
            handle[1].set("code.function", str(name))
        return handle

    if _is_async(handler):

        async def async_handler() -> Any:
            handle = opened()
            return await recorder.await_in_span(handle, handler())

        return async_handler

    def sync_handler() -> Any:
        return recorder.call_in_span(opened(), handler)

    return sync_handler


def _is_async(handler: Any) -> bool:
    """As Starlette decides it (``functools.partial`` and async ``__call__`` included)."""
    try:
        from starlette._utils import is_async_callable

        return bool(is_async_callable(handler))
    except ImportError:
        return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
            type(handler).__call__
        )


def _parent_step() -> int:
    """The step of the span the work runs under (0 in a lifespan; a request's own step)."""
    rec = recorder.current.get()
    index = recorder.parent.get()
    if rec is not None and 0 <= index < len(rec.spans):
        return rec.spans[index].step
    return STEP


def _wrap_dispose(original: Callable[..., Any]) -> Callable[..., Any]:
    """``engine dispose``: the pool's connections closed (an ``AsyncEngine`` disposes its
    ``sync_engine``, so both are covered)."""

    def dispose(self: Any, *args: Any, **kwargs: Any) -> Any:
        if recorder.current.get() is None:
            return original(self, *args, **kwargs)
        handle = None
        try:
            handle = recorder.start("engine dispose", "db", _parent_step())
            if handle is not None:
                span = handle[1]
                span.set("db.system", self.dialect.name)
                span.set("db.operation", "DISPOSE")
                pool = getattr(self, "pool", None)
                idle = getattr(pool, "checkedin", None)
                if callable(idle):
                    span.set("db.pool.idle_connections", idle())
                span.set("db.pool", type(pool).__name__)
        except Exception as exc:
            report("db dispose hook", exc)
        try:
            result = original(self, *args, **kwargs)
        except BaseException as exc:
            if handle is not None:
                recorder.finish(handle, exc)
            raise
        if handle is not None:
            recorder.finish(handle)
        return result

    return dispose
