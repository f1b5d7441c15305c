"""An ``httpx`` client opened and closed: a span each, where a recorder is current.

Apps open their clients in the lifespan (one per app, kept on ``app.state``)
or per request (``async with httpx.AsyncClient() as client``); either way the
opening (the transport's connection pool) and the closing (its connections)
are work the trace shows, named ``httpx client open`` / ``httpx client close``,
with the phase and step of the span they ran in (the lifespan's, the
handler's): they are no outbound call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracer.capture import recorder
from tracer.capture.hooks.points import Binding


def _open(action: str) -> recorder.Handle | None:
    rec = recorder.current.get()
    if rec is None:
        return None
    at = recorder.parent.get()
    if 0 <= at < len(rec.spans):
        return recorder.start(f"httpx client {action}", rec.spans[at].phase, rec.spans[at].step)
    return recorder.start(f"httpx client {action}", "handler", 6)


def async_lifecycle(action: str) -> Callable[[Any, Binding], Any]:
    """A wrapper factory for ``AsyncClient.__aenter__`` / ``aclose``."""

    def wrap(original: Any, binding: Binding) -> Any:
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            handle = _open(action)
            return await recorder.await_in_span(handle, original(self, *args, **kwargs))

        return wrapper

    return wrap


def sync_lifecycle(action: str) -> Callable[[Any, Binding], Any]:
    """A wrapper factory for ``Client.__enter__`` / ``close``."""

    def wrap(original: Any, binding: Binding) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            return recorder.call_in_span(_open(action), lambda: original(self, *args, **kwargs))

        return wrapper

    return wrap
