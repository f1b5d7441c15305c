"""Threadpool hooks: the wait for a worker, and threadpool work the app starts itself.

``run_in_threadpool`` is rebound where FastAPI imported it; the function it
runs is wrapped to stamp when a worker starts it, so the wait is a span of its
own. anyio copies contextvars into the worker, so spans opened there nest
under the current one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any

from tracer.capture import clock, recorder
from tracer.capture.hooks.naming import call_name
from tracer.capture.hooks.points import Binding
from tracer.capture.hooks.routing import mount_owner
from tracer.capture.hooks.skeleton import quietly
from tracer.safety import report

#: Set while a threadpool call is already timed by a FastAPI-level hook (no second span).
timed_here: ContextVar[bool] = ContextVar("trace_request_threadpool_timed", default=False)


def timed_call(func: Callable[..., Any], args: Any, kwargs: Any, started: list[int]) -> Any:
    """``func(*args, **kwargs)`` that first stamps ``started[0]`` (when a worker picked it up)."""

    def call() -> Any:
        started[0] = clock.now_ns()
        return func(*args, **kwargs)

    return call


def wrap_wait(original: Callable[..., Any], binding: Binding) -> Callable[..., Any]:
    """``fastapi.routing.run_in_threadpool``: a ``threadpool wait`` span under the current one."""

    async def run_in_threadpool(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        if rec is None:
            return await original(func, *args, **kwargs)
        queued = clock.now_ns()
        started = [queued]
        token = timed_here.set(True)
        try:
            return await original(timed_call(func, args, kwargs, started))
        finally:
            timed_here.reset(token)
            try:
                wait = rec.open("threadpool wait", "handler", 6, recorder.parent.get(), queued)
                wait.end = started[0]
                if 0 <= wait.parent < len(rec.spans):
                    owner = rec.spans[wait.parent]
                    wait.step = owner.step
                    wait.phase = owner.phase
                    owner.set("threadpool.wait_ns", started[0] - queued)
            except Exception as exc:
                report("threadpool hook", exc)

    return run_in_threadpool


def wrap_run_sync(original: Callable[..., Any], binding: Binding) -> Callable[..., Any]:
    """``anyio.to_thread.run_sync``: threadpool work the app starts itself
    (``run_in_threadpool(hash_password, ...)``), however it imported the helper."""

    async def run_sync(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        if (
            rec is None
            or timed_here.get()
            or getattr(func, "__module__", None) == "starlette.concurrency"  # stream chunks
        ):
            return await original(func, *args, **kwargs)
        if _is_generator_step(func):
            return await _dependency_step(original, func, args, kwargs)
        handle = None
        queued = clock.now_ns()
        started = [queued]
        try:
            handle = recorder.start(_span_name(func), "handler", 6)
            if handle is not None:
                owner = rec.spans[handle[1].parent] if handle[1].parent >= 0 else None
                if owner is not None:
                    handle[1].phase, handle[1].step = owner.phase, owner.step
                handle[1].set("code.function", call_name(func))
        except Exception as exc:
            report("threadpool hook", exc)
        if handle is None:
            return await original(func, *args, **kwargs)
        try:
            result = await original(timed_call(func, args, {}, started), **kwargs)
        except BaseException as exc:
            quietly("threadpool hook", handle[1].set, "threadpool.wait_ns", started[0] - queued)
            recorder.finish(handle, exc)
            raise
        quietly("threadpool hook", handle[1].set, "threadpool.wait_ns", started[0] - queued)
        recorder.finish(handle)
        return result

    return run_sync


def _span_name(func: Callable[..., Any]) -> str:
    """``StaticFiles: stat`` inside a mounted app, else ``threadpool stat``; read per call
    (nothing cached: ``func`` is often a fresh partial or bound method holding arguments)."""
    owner = mount_owner.get()
    return f"{owner}: {call_name(func)}" if owner else f"threadpool {call_name(func)}"


_GENERATOR_STEPS = ("__enter__", "__exit__")


def _is_generator_step(func: Callable[..., Any]) -> bool:
    """FastAPI's ``contextmanager_in_threadpool`` entering or leaving a sync yield dependency
    (``__enter__`` comes through ``run_in_threadpool``, inside a partial)."""
    while isinstance(func, functools.partial):
        func = func.func
    return getattr(func, "__name__", None) in _GENERATOR_STEPS and isinstance(
        getattr(func, "__self__", None), AbstractContextManager
    )


async def _dependency_step(
    original: Callable[..., Any], func: Callable[..., Any], args: Any, kwargs: Any
) -> Any:
    """The dependency's own work (its code up to ``yield``, or after it): no span of its own;
    the time is the dependency's (or its teardown's) and the wait an attribute of it."""
    rec = recorder.current.get()
    queued = clock.now_ns()
    started = [queued]
    try:
        return await original(timed_call(func, args, {}, started), **kwargs)
    finally:
        index = recorder.parent.get()
        if rec is not None and 0 <= index < len(rec.spans):
            key = "teardown.wait_ns" if call_name(func) == "__exit__" else "threadpool.wait_ns"
            quietly("threadpool hook", rec.spans[index].set, key, started[0] - queued)
