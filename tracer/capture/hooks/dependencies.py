"""Dependency hooks: ``solve_dependencies``, the yield-dependency generator, sync dependencies.

The recursive ``solve_dependencies`` call for a dependency resolves its
sub-dependencies and parameters; the dependency itself is then called by
the *caller's* frame. So a dependency's span stays open ("pending", see
:mod:`~tracer.capture.hooks.pending`) when its solve returns, and the next
hook in the caller closes it. ``Dependant.call`` is never wrapped, so
``dependency_overrides``, the dependency cache and FastAPI's callable-kind
detection see exactly the user's callables.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from tracer.capture import clock, recorder
from tracer.capture.hooks.loop_hold import timed
from tracer.capture.hooks.naming import call_name
from tracer.capture.hooks.pending import pending, settle
from tracer.capture.hooks.points import Binding, Getter, HookMismatch
from tracer.capture.hooks.skeleton import Handle
from tracer.capture.hooks.threadpool import timed_call, timed_here
from tracer.capture.recorder import RawSpan, Recorder
from tracer.safety import report


def _required(binding: Binding, name: str) -> Getter:
    get = binding.getter(name)
    if get is None:  # the table and this hook disagree: a bug here, found by the table test
        raise HookMismatch(f"is not declared to read {name!r}")
    return get


def wrap_solve(original: Callable[..., Any], binding: Binding) -> Callable[..., Any]:
    """Top-level call: the ``solve_dependencies`` span; recursive call: one dependency's span."""
    dependant_of = _required(binding, "dependant")
    cache_of = _required(binding, "dependency_cache")
    scopes_of = binding.getter("_uses_scopes_cache")

    async def solve_dependencies(*args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        if rec is None:
            return await original(*args, **kwargs)
        handle = None
        top = True
        dependant: Any = None
        cache: Any = None
        try:
            cache = cache_of(args, kwargs)
            top = cache is None
            settle()
            if top:
                handle = recorder.start("solve_dependencies", "dependency", 4)
            else:
                dependant = dependant_of(args, kwargs)
                handle = recorder.start(call_name(dependant.call), "dependency", 4)
                if handle is not None and dependant.name:
                    handle[1].set("dependency.param", dependant.name)
        except Exception as exc:
            report("dependency hook", exc)
        if handle is None:
            return await original(*args, **kwargs)
        try:
            if top:
                result = await timed(original(*args, **kwargs), handle[1])
            else:
                result = await original(*args, **kwargs)
        except BaseException as exc:
            settle(exc)
            recorder.finish(handle, exc)
            raise
        try:
            if top:
                settle()
                recorder.finish(handle)
                if getattr(result, "errors", None):
                    handle[1].set("validation.error_count", len(result.errors))
            else:
                scopes = scopes_of(args, kwargs) if scopes_of is not None else None
                _leave_pending(handle, dependant, cache, scopes)
        except Exception as exc:
            report("dependency hook", exc)
        return result

    return solve_dependencies


def _leave_pending(handle: Handle, dependant: Any, cache: Any, scopes: Any) -> None:
    """The dependency's call runs next, in the caller: keep its span open and current."""
    _rec, span, _token = handle
    if getattr(dependant, "use_cache", False) and _is_cached(dependant, cache, scopes):
        span.set("dependency.cached", True)
        span.set("dependency.kind", "cached")
        span.end = clock.now_ns()
        recorder.parent.set(span.parent)
        return
    pending.set(span)


def _is_cached(dependant: Any, cache: Any, scopes: Any) -> bool:
    """Whether FastAPI will answer this dependency from its per-request cache."""
    if not cache:
        return False
    key = getattr(dependant, "cache_key", None)
    if key is None:  # FastAPI 0.140+: the key depends on the scopes in use
        try:
            from fastapi.dependencies.models import _get_cache_key

            key = _get_cache_key(dependant=dependant, uses_scopes_cache=scopes or {})
        except Exception:
            return False
    try:
        return key in cache
    except TypeError:
        return False


def wrap_generator(original: Callable[..., Any], binding: Binding) -> Callable[..., Any]:
    """``_solve_generator`` (``solve_generator(*, call, ...)`` before 0.121): a yield dependency.

    Two exit callbacks go on the request's own exit stack around the
    generator's, so its teardown is timed wherever FastAPI runs it.
    """
    stack_of = _required(binding, "stack")
    call_of = binding.getter("call")
    dependant_of = binding.getter("dependant")
    if call_of is None and dependant_of is None:
        raise HookMismatch("is not declared to read 'call' or 'dependant'")

    async def solve_generator(*args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        dep = pending.get()
        stack = stack_of(args, kwargs)
        if rec is None or dep is None or stack is None:
            return await original(*args, **kwargs)
        holder: list[Any] = [None, -1]
        try:
            if call_of is not None:
                call = call_of(args, kwargs)
            else:
                call = getattr(dependant_of(args, kwargs), "call", None)  # type: ignore[misc]
            kind = "async_generator" if _is_async_gen(call) else "generator"
            dep.set("dependency.kind", kind)
            stack.push(_teardown_end(holder))
        except Exception as exc:
            report("yield dependency hook", exc)
        try:
            result = await original(*args, **kwargs)
        except BaseException as exc:
            settle(exc)
            raise
        try:
            stack.push(_teardown_start(rec, dep, holder))
        except Exception as exc:
            report("yield dependency hook", exc)
        settle()
        return result

    return solve_generator


def _is_async_gen(call: Any) -> bool:
    return inspect.isasyncgenfunction(call) or inspect.isasyncgenfunction(
        getattr(call, "__call__", None)  # noqa: B004
    )


def _teardown_start(rec: Recorder, dep: RawSpan, holder: list[Any]) -> Callable[..., bool]:
    def exit_(exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        try:
            # parented where it runs (the route, usually after the response), not under the
            # dependency's own span, which ended long before
            span = rec.open(f"{dep.name} teardown", "dependency", 4, recorder.parent.get())
            span.set("dependency.teardown", True)
            span.set("dependency.name", dep.name)
            span.set("after_response", rec.response_end >= 0)
            if exc is not None:
                span.set("dependency.exception", type(exc).__qualname__)
            holder[0] = span
            holder[1] = recorder.parent.get()
            recorder.parent.set(span.index)
        except Exception as error:
            report("yield dependency hook", error)
        return False

    return exit_


def _teardown_end(holder: list[Any]) -> Callable[..., bool]:
    def exit_(exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        span = holder[0]
        if span is not None:
            span.end = clock.now_ns()
            recorder.parent.set(holder[1])
        return False

    return exit_


def wrap_threadpool(original: Callable[..., Any], binding: Binding) -> Callable[..., Any]:
    """``run_in_threadpool`` as the dependency solver uses it: a ``def`` dependency's call."""

    async def run_in_threadpool(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        dep = pending.get()
        if dep is None or recorder.current.get() is None:
            return await original(func, *args, **kwargs)
        queued = clock.now_ns()
        started = [queued]
        token = timed_here.set(True)
        try:
            result = await original(timed_call(func, args, kwargs, started))
        except BaseException as exc:
            settle(exc, {"dependency.kind": "sync", "threadpool.wait_ns": started[0] - queued})
            raise
        finally:
            timed_here.reset(token)
        settle(None, {"dependency.kind": "sync", "threadpool.wait_ns": started[0] - queued})
        return result

    return run_in_threadpool
