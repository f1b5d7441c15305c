"""The one wrapper shape the simple hook points share: open a span, call, close it.

A :class:`SpanSpec` says how the span is named and which attributes it gets
from the parameters the table reads (``name(*values)``, ``before(span, rec,
*values)``, ``after(span, result, *values)``). The wrapper checks for a
current recorder first and otherwise calls the original at once, so
untraced requests pay one contextvar read. Recording never raises into the
app: a failure is reported once and the original still runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tracer.capture import recorder
from tracer.capture.hooks.loop_hold import timed
from tracer.capture.hooks.pending import settle
from tracer.capture.hooks.points import Binding
from tracer.capture.recorder import RawSpan, Recorder
from tracer.safety import report

Handle = tuple[Recorder, RawSpan, Any]


def quietly(kind: str, func: Callable[..., Any], *args: Any) -> None:
    """Call ``func``; a failure is reported under ``kind`` and swallowed."""
    try:
        func(*args)
    except Exception as exc:
        report(kind, exc)


@dataclass(frozen=True)
class SpanSpec:
    """How a simple hook's span is named and what it records (see the module docstring)."""

    #: the span's name, or a function of the values read returning it (``None``: no span)
    name: str | Callable[..., str | None]
    #: attributes known before the call: ``before(span, rec, *values)``
    before: Callable[..., None] | None = None
    #: attributes of the result: ``after(span, result, *values)``
    after: Callable[..., None] | None = None
    #: ``skip(*values)`` true: no span for this call (a body read that is already cached)
    skip: Callable[..., bool] | None = None
    #: ``timed(*values)`` true: record how long the coroutine held the event loop
    timed: Callable[..., bool] | None = None
    #: close the pending dependency span first (the dependency's own call has returned)
    settle: bool = False

    def __call__(self, original: Any, binding: Binding) -> Any:
        if binding.point.asynchronous:
            return _async_wrapper(self, original, binding)
        return _sync_wrapper(self, original, binding)


def _begin(
    spec: SpanSpec, binding: Binding, rec: Recorder, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Handle | None, tuple[Any, ...], bool]:
    """Open the span: ``(handle or None, the values read, whether to time the loop)``."""
    handle = None
    values: tuple[Any, ...] = ()
    loop = False
    try:
        values = binding.read(args, kwargs)
        if spec.settle:
            settle()
        if spec.skip is not None and spec.skip(*values):
            return None, values, False
        name = spec.name if isinstance(spec.name, str) else spec.name(*values)
        if name is None:
            return None, values, False
        point = binding.point
        handle = recorder.start(name, point.phase, point.step)
        if handle is not None:
            if spec.before is not None:
                spec.before(handle[1], rec, *values)
            loop = spec.timed is not None and bool(spec.timed(*values))
    except Exception as exc:
        report(f"{binding.point.label} hook", exc)
    return handle, values, loop


def _async_wrapper(spec: SpanSpec, original: Any, binding: Binding) -> Any:
    after = spec.after
    kind = f"{binding.point.label} hook"

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        if rec is None:
            return await original(*args, **kwargs)
        handle, values, loop = _begin(spec, binding, rec, args, kwargs)
        if handle is None:
            return await original(*args, **kwargs)
        try:
            if loop:
                result = await timed(original(*args, **kwargs), handle[1])
            else:
                result = await original(*args, **kwargs)
        except BaseException as exc:
            recorder.finish(handle, exc)
            raise
        if after is not None:
            quietly(kind, after, handle[1], result, *values)
        recorder.finish(handle)
        return result

    return wrapper


def _sync_wrapper(spec: SpanSpec, original: Any, binding: Binding) -> Any:
    after = spec.after
    kind = f"{binding.point.label} hook"

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        if rec is None:
            return original(*args, **kwargs)
        handle, values, _loop = _begin(spec, binding, rec, args, kwargs)
        if handle is None:
            return original(*args, **kwargs)
        try:
            result = original(*args, **kwargs)
        except BaseException as exc:
            recorder.finish(handle, exc)
            raise
        if after is not None:
            quietly(kind, after, handle[1], result, *values)
        recorder.finish(handle)
        return result

    return wrapper
