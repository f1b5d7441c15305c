"""Measuring how long a coroutine held the event loop without awaiting.

``await timed(coro, span)`` drives ``coro`` step by step (each ``send`` runs
the coroutine until its next real suspension) and records the longest step on
``span`` as ``loop.max_hold_ns`` with its offset from the span's start. A
``time.sleep(0.05)`` inside ``async def`` shows up as a 50 ms step; an
``await asyncio.sleep(0.05)`` as many tiny ones. The values the coroutine
yields are passed through untouched, so the event loop sees no difference.
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator
from typing import Any, TypeVar

from tracer.capture import clock
from tracer.capture.recorder import RawSpan
from tracer.safety import report

T = TypeVar("T")


class _Timed(Awaitable[T]):
    __slots__ = ("_awaitable", "_span")

    def __init__(self, awaitable: Awaitable[T], span: RawSpan) -> None:
        self._awaitable = awaitable
        self._span = span

    def __await__(self) -> Generator[Any, Any, T]:
        inner = self._awaitable.__await__()
        longest = 0
        longest_at = 0
        to_send: Any = None
        to_throw: BaseException | None = None
        try:
            while True:
                started = clock.now_ns()
                try:
                    yielded = inner.send(to_send) if to_throw is None else inner.throw(to_throw)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                finally:
                    step = clock.now_ns() - started
                    if step > longest:
                        longest, longest_at = step, started
                to_send, to_throw = None, None
                try:
                    to_send = yield yielded
                except GeneratorExit:
                    inner.close()
                    raise
                except BaseException as exc:
                    to_throw = exc
        finally:
            span = self._span
            try:
                span.set("loop.max_hold_ns", longest)
                span.set("loop.max_hold_offset_ns", max(0, longest_at - span.start))
            except Exception as exc:
                report("loop hold measurement", exc)


def timed(awaitable: Awaitable[T], span: RawSpan) -> Awaitable[T]:
    """Wrap ``awaitable`` so its longest synchronous stretch is recorded on ``span``."""
    return _Timed(awaitable, span)
