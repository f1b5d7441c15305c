"""The exception handler that turned a raised exception into the response: a span around it.

FastAPI answers a 4xx by raising (``RequestValidationError``,
``HTTPException``) and letting a handler build the response. Starlette's
``wrap_app_handling_exceptions`` (around every route, and in
``ExceptionMiddleware`` for what the router raises) catches the exception,
looks the handler up by the exception's class with
``starlette._exception_handler._lookup_exception_handler`` and calls it:
awaited when it is ``async``, through ``run_in_threadpool`` otherwise.

The hook wraps that lookup. Only when a traced request's exception found a
handler does it return a stand-in: an ``async`` function that runs the
handler exactly as Starlette would have (awaited, or a ``def`` handler through
the same ``run_in_threadpool``), once, inside a span named after the handler
with ``handler.name`` (its qualified name) and ``exception.type``. The span
is step 8, phase ``serialization``: the handler builds the error response (its
``render JSONResponse`` nests inside), and the error path counts that under
the way out. It opens under the span that caught the exception (the route, or
``ExceptionMiddleware``), whose time it is.

Not seen: a handler registered for a *status code* (``@app.exception_handler(404)``)
is looked up by Starlette without this function, and ``ServerErrorMiddleware``
calls a 500 handler itself; those responses keep no handler span (the error
path names the handler by the exception).
"""

from __future__ import annotations

import functools
from typing import Any

from tracer.capture import recorder
from tracer.capture.hooks.naming import call_name
from tracer.capture.hooks.points import Binding
from tracer.safety import report


def _qualname(handler: Any) -> str:
    while isinstance(handler, functools.partial):
        handler = handler.func
    name = getattr(handler, "__qualname__", None)
    return name if isinstance(name, str) else call_name(handler)


def _stand_in(handler: Any, module: Any) -> Any:
    """An ``async`` callable running ``handler`` as Starlette would, inside a span."""
    is_async = bool(module.is_async_callable(handler))
    run_in_threadpool = module.run_in_threadpool
    name = call_name(handler)
    qualname = _qualname(handler)

    async def handle_exception(conn: Any, exc: Any) -> Any:
        handle = recorder.start(name, "serialization", 8)
        if handle is not None:
            try:
                handle[1].set("handler.name", qualname)
                handle[1].set("exception.type", type(exc).__qualname__)
            except Exception as error:
                report("exception handler hook", error)
        if is_async:
            return await recorder.await_in_span(handle, _call(handler, conn, exc))
        return await recorder.await_in_span(handle, run_in_threadpool(handler, conn, exc))

    handle_exception.__name__ = name
    handle_exception.__qualname__ = qualname
    return handle_exception


async def _call(handler: Any, conn: Any, exc: Any) -> Any:
    """``await handler(conn, exc)``; a synchronous failure of the call raises inside the span."""
    return await handler(conn, exc)


def wrap_lookup(original: Any, binding: Binding) -> Any:
    """``_lookup_exception_handler(exc_handlers, exc)``: the handler, or its traced stand-in."""
    import importlib

    module = importlib.import_module(binding.target.module)

    def lookup(exc_handlers: Any, exc: Any, *args: Any, **kwargs: Any) -> Any:
        handler = original(exc_handlers, exc, *args, **kwargs)
        if handler is None or recorder.current.get() is None:
            return handler
        try:
            return _stand_in(handler, module)
        except Exception as error:  # the handler as it was: Starlette calls it itself
            report("exception handler hook", error)
            return handler

    return lookup
