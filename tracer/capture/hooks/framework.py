"""FastAPI and Starlette hook points: routing, dependencies, validation, handler,
serialisation and background tasks.

Each wrapper checks for a current recorder first and otherwise calls the
original at once, so untraced requests (and other apps in the process) pay
one contextvar read. Wrappers pass ``*args, **kwargs`` through untouched:
signatures moved between FastAPI versions (see docs/how-it-works.md).

Dependencies: the recursive ``solve_dependencies`` call for a dependency
resolves its sub-dependencies and parameters; the dependency itself is then
called by the *caller's* frame. So a dependency's span stays open ("pending")
when its solve returns and is closed by the next hook in the caller
(``_solve_generator``, ``run_in_threadpool``, the next ``solve_dependencies``
or ``request_params_to_args``), or by the exception it raised.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from tracer.capture import clock, recorder
from tracer.capture.hooks.loop_hold import timed
from tracer.capture.hooks.patching import Patcher
from tracer.capture.recorder import RawSpan, Recorder
from tracer.safety import report
from tracer.types import Message, Receive, Scope, Send

#: Set while a threadpool call is already timed by a FastAPI-level hook (no second span).
_timed_here: ContextVar[bool] = ContextVar("trace_request_threadpool_timed", default=False)

#: The dependency whose own call is running in the caller's frame right now.
_pending: ContextVar[RawSpan | None] = ContextVar("trace_request_pending_dep", default=None)

_MODULE_PATH = re.compile(r"\b(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)")


def install(patcher: Patcher) -> None:
    """Patch every hook point this FastAPI/Starlette version offers."""
    import fastapi.routing as fastapi_routing
    import starlette.background as background
    import starlette.requests as requests
    import starlette.responses as responses
    import starlette.routing as starlette_routing

    if "handle" in vars(fastapi_routing.APIRoute):  # FastAPI 0.137+ (router tree)
        patcher.patch(fastapi_routing.APIRoute, "handle", _wrap_handle, phase="routing")
    # before 0.137 APIRoute inherits Route.handle, wrapped below
    patcher.patch(starlette_routing.Route, "handle", _wrap_handle, phase="routing")
    patcher.patch(fastapi_routing, "solve_dependencies", _wrap_solve, phase="dependency")
    patcher.patch(fastapi_routing, "run_endpoint_function", _wrap_endpoint, phase="handler")
    patcher.patch(fastapi_routing, "run_in_threadpool", _wrap_threadpool, phase="threadpool")
    patcher.patch(fastapi_routing, "serialize_response", _wrap_serialize, phase="serialization")
    patcher.patch(requests.Request, "body", _wrap_body, phase="validation (body read)")
    patcher.patch(requests.Request, "json", _wrap_json, phase="validation (JSON parse)")
    patcher.patch(responses.JSONResponse, "render", _wrap_render, phase="serialization")
    patcher.patch(background.BackgroundTask, "__call__", _wrap_background, phase="background")
    import anyio.to_thread

    patcher.patch(anyio.to_thread, "run_sync", _wrap_to_thread, phase="threadpool (app code)")
    try:
        import fastapi.dependencies.utils as dep_utils
    except ImportError:  # pragma: no cover - every supported version has it
        return
    patcher.patch(dep_utils, "solve_dependencies", _wrap_solve, phase="dependency")
    # FastAPI < 0.121: public ``solve_generator(*, call, stack, sub_values)``
    generator = "_solve_generator" if "_solve_generator" in vars(dep_utils) else "solve_generator"
    patcher.patch(dep_utils, generator, _wrap_generator, phase="dependency (yield)")
    patcher.patch(dep_utils, "run_in_threadpool", _wrap_dep_threadpool, phase="dependency")
    patcher.patch(dep_utils, "request_params_to_args", _wrap_params, phase="validation")
    patcher.patch(dep_utils, "request_body_to_args", _wrap_body_args, phase="validation")


# -- helpers -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _callable_name(call: Any) -> str:
    while isinstance(call, functools.partial):
        call = call.func
    name = getattr(call, "__name__", None)
    if isinstance(name, str):
        return name
    return type(call).__name__


def call_name(call: Any) -> str:
    try:
        return _callable_name(call)
    except TypeError:  # unhashable callable
        return type(call).__name__


def type_name(annotation: Any) -> str:
    name = getattr(annotation, "__name__", None)
    if isinstance(name, str) and "[" not in repr(annotation):
        return name
    return _MODULE_PATH.sub(r"\1", repr(annotation).replace("typing.", ""))


def _quietly(func: Callable[..., Any], *args: Any) -> None:
    try:
        func(*args)
    except Exception as exc:
        report("recording attributes", exc)


def _settle(error: BaseException | None = None, attributes: dict[str, Any] | None = None) -> None:
    """Close the pending dependency span (its call just finished or raised); never raises."""
    span = _pending.get()
    if span is None:
        return
    _pending.set(None)
    if span.end >= 0:
        return
    try:
        rec = recorder.current.get()
        if error is not None and rec is not None:
            recorder.mark_error(rec, span, error)
        span.end = clock.now_ns()
        for key, value in (attributes or {}).items():
            span.set(key, value)
        if span.attributes is None or "dependency.kind" not in span.attributes:
            span.set("dependency.kind", "async")
    except Exception as exc:
        report("dependency hook", exc)
    recorder.parent.set(span.parent)


def _format_error(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)[:200]
    loc = ".".join(str(part) for part in error.get("loc", ()))
    return f"{loc}: {error.get('msg', '')} ({error.get('type', '')})"


def _record_errors(span: RawSpan, errors: Any) -> None:
    if errors:
        span.status = "error"
        span.set("validation.error_count", len(errors))
        span.set("validation.errors", [_format_error(e) for e in list(errors)[:20]])


# -- routing -----------------------------------------------------------------------------


def _wrap_handle(original: Callable[..., Any]) -> Callable[..., Any]:
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
                _quietly(handle_[1].set, "routing.status", 405)
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


def _enter_route(rec: Recorder, route: Any, send: Send) -> tuple[Any, Send]:
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
    assert handle is not None
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


# -- dependencies ------------------------------------------------------------------------


def _wrap_solve(original: Callable[..., Any]) -> Callable[..., Any]:
    async def solve_dependencies(*args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        if rec is None:
            return await original(*args, **kwargs)
        handle = None
        top = kwargs.get("dependency_cache") is None
        try:
            _settle()
            if top:
                handle = recorder.start("solve_dependencies", "dependency", 4)
            else:
                dependant: Any = kwargs.get("dependant")
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
            _settle(exc)
            recorder.finish(handle, exc)
            raise
        try:
            if top:
                _settle()
                recorder.finish(handle)
                if getattr(result, "errors", None):
                    handle[1].set("validation.error_count", len(result.errors))
            else:
                _leave_pending(handle, kwargs)
        except Exception as exc:
            report("dependency hook", exc)
        return result

    return solve_dependencies


def _leave_pending(handle: tuple[Recorder, RawSpan, Any], kwargs: dict[str, Any]) -> None:
    """The dependency's call runs next, in the caller: keep its span open and current."""
    _rec, span, _token = handle
    dependant = kwargs.get("dependant")
    if getattr(dependant, "use_cache", False) and _is_cached(dependant, kwargs):
        span.set("dependency.cached", True)
        span.set("dependency.kind", "cached")
        span.end = clock.now_ns()
        recorder.parent.set(span.parent)
        return
    _pending.set(span)


def _is_cached(dependant: Any, kwargs: dict[str, Any]) -> bool:
    cache = kwargs.get("dependency_cache")
    if not cache:
        return False
    key = getattr(dependant, "cache_key", None)
    if key is None:
        try:
            from fastapi.dependencies.models import _get_cache_key

            key = _get_cache_key(
                dependant=dependant, uses_scopes_cache=kwargs.get("_uses_scopes_cache") or {}
            )
        except Exception:
            return False
    try:
        return key in cache
    except TypeError:
        return False


def _wrap_generator(original: Callable[..., Any]) -> Callable[..., Any]:
    async def solve_generator(*args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        dep = _pending.get()
        stack = kwargs.get("stack")
        if rec is None or dep is None or stack is None:
            return await original(*args, **kwargs)
        holder: list[Any] = [None, -1]
        try:
            call = kwargs.get("call") or getattr(kwargs.get("dependant"), "call", None)
            kind = "async_generator" if _is_async_gen(call) else "generator"
            dep.set("dependency.kind", kind)
            stack.push(_teardown_end(holder))
        except Exception as exc:
            report("yield dependency hook", exc)
        try:
            result = await original(*args, **kwargs)
        except BaseException as exc:
            _settle(exc)
            raise
        try:
            stack.push(_teardown_start(rec, dep, holder))
        except Exception as exc:
            report("yield dependency hook", exc)
        _settle()
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


def _timed_call(func: Callable[..., Any], args: Any, kwargs: Any, started: list[int]) -> Any:
    def call() -> Any:
        started[0] = clock.now_ns()
        return func(*args, **kwargs)

    return call


def _wrap_dep_threadpool(original: Callable[..., Any]) -> Callable[..., Any]:
    async def run_in_threadpool(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        dep = _pending.get()
        if dep is None or recorder.current.get() is None:
            return await original(func, *args, **kwargs)
        queued = clock.now_ns()
        started = [queued]
        token = _timed_here.set(True)
        try:
            result = await original(_timed_call(func, args, kwargs, started))
        except BaseException as exc:
            _settle(exc, {"dependency.kind": "sync", "threadpool.wait_ns": started[0] - queued})
            raise
        finally:
            _timed_here.reset(token)
        _settle(None, {"dependency.kind": "sync", "threadpool.wait_ns": started[0] - queued})
        return result

    return run_in_threadpool


def _wrap_params(original: Callable[..., Any]) -> Callable[..., Any]:
    def request_params_to_args(fields: Any, *args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        if rec is None:
            return original(fields, *args, **kwargs)
        handle = None
        try:
            _settle()
            if fields:
                source = getattr(getattr(fields[0].field_info, "in_", None), "value", "params")
                handle = recorder.start(f"validate {source}", "validation", 5)
                if handle is not None:
                    handle[1].set("validation.source", source)
                    handle[1].set("validation.fields", [f.alias for f in fields])
        except Exception as exc:
            report("validation hook", exc)
        if handle is None:
            return original(fields, *args, **kwargs)
        try:
            result = original(fields, *args, **kwargs)
        except BaseException as exc:
            recorder.finish(handle, exc)
            raise
        _finish_validation(handle, result)
        return result

    return request_params_to_args


def _finish_validation(handle: tuple[Recorder, RawSpan, Any], result: Any) -> None:
    """Record the ``(values, errors)`` a validation function returned and close its span."""
    try:
        _record_errors(handle[1], result[1])
    except Exception as exc:
        report("validation hook", exc)
    recorder.finish(handle)


def _wrap_body_args(original: Callable[..., Any]) -> Callable[..., Any]:
    async def request_body_to_args(*args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        if rec is None:
            return await original(*args, **kwargs)
        handle = None
        try:
            _settle()
            handle = recorder.start("validate body", "validation", 5)
            if handle is not None:
                handle[1].set("validation.source", "body")
                fields = kwargs.get("body_fields") or (args[0] if args else None) or []
                if len(fields) == 1:
                    info = fields[0].field_info
                    handle[1].set("validation.model", type_name(info.annotation))
                else:
                    handle[1].set("validation.fields", [f.alias for f in fields])
        except Exception as exc:
            report("validation hook", exc)
        if handle is None:
            return await original(*args, **kwargs)
        try:
            result = await original(*args, **kwargs)
        except BaseException as exc:
            recorder.finish(handle, exc)
            raise
        _finish_validation(handle, result)
        return result

    return request_body_to_args


def _wrap_body(original: Callable[..., Any]) -> Callable[..., Any]:
    async def body(self: Any) -> bytes:
        if recorder.current.get() is None or hasattr(self, "_body"):
            return await original(self)  # type: ignore[no-any-return]
        handle = recorder.start("read body", "validation", 5)
        if handle is None:
            return await original(self)  # type: ignore[no-any-return]
        try:
            data: bytes = await original(self)
        except BaseException as exc:
            recorder.finish(handle, exc)
            raise
        _quietly(handle[1].set, "body.bytes", len(data))
        recorder.finish(handle)
        return data

    return body


def _wrap_json(original: Callable[..., Any]) -> Callable[..., Any]:
    async def json(self: Any) -> Any:
        if recorder.current.get() is None or hasattr(self, "_json"):
            return await original(self)
        handle = recorder.start("parse JSON", "validation", 5)
        if handle is None:
            return await original(self)
        try:
            data = await original(self)
        except BaseException as exc:
            recorder.finish(handle, exc)
            raise
        recorder.finish(handle)
        return data

    return json


# -- handler, serialisation, background ---------------------------------------------------


def _wrap_endpoint(original: Callable[..., Any]) -> Callable[..., Any]:
    async def run_endpoint_function(*args: Any, **kwargs: Any) -> Any:
        if recorder.current.get() is None:
            return await original(*args, **kwargs)
        handle = None
        try:
            call = getattr(kwargs.get("dependant"), "call", None)
            handle = recorder.start(call_name(call), "handler", 6)
            if handle is not None:
                handle[1].set("handler.kind", "async" if kwargs.get("is_coroutine") else "sync")
                handle[1].set("code.function", getattr(call, "__qualname__", call_name(call)))
        except Exception as exc:
            report("handler hook", exc)
        if handle is None:
            return await original(*args, **kwargs)
        try:
            if kwargs.get("is_coroutine"):
                result = await timed(original(*args, **kwargs), handle[1])
            else:
                result = await original(*args, **kwargs)
        except BaseException as exc:
            recorder.finish(handle, exc)
            raise
        _quietly(handle[1].set, "handler.returned", type(result).__name__)
        _quietly(handle[1].set, "handler.returned_kind", returned_kind(result))
        recorder.finish(handle)
        return result

    return run_endpoint_function


def _wrap_threadpool(original: Callable[..., Any]) -> Callable[..., Any]:
    async def run_in_threadpool(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        if rec is None:
            return await original(func, *args, **kwargs)
        queued = clock.now_ns()
        started = [queued]
        token = _timed_here.set(True)
        try:
            return await original(_timed_call(func, args, kwargs, started))
        finally:
            _timed_here.reset(token)
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


def _wrap_to_thread(original: Callable[..., Any]) -> Callable[..., Any]:
    """``anyio.to_thread.run_sync``: threadpool work the app starts itself
    (``run_in_threadpool(hash_password, ...)``), however it imported the helper."""

    async def run_sync(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        rec = recorder.current.get()
        if (
            rec is None
            or _timed_here.get()
            or getattr(func, "__module__", None) == "starlette.concurrency"  # stream chunks
        ):
            return await original(func, *args, **kwargs)
        handle = None
        queued = clock.now_ns()
        started = [queued]
        try:
            handle = recorder.start(f"threadpool {call_name(func)}", "handler", 6)
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
            result = await original(_timed_call(func, args, {}, started), **kwargs)
        except BaseException as exc:
            _quietly(handle[1].set, "threadpool.wait_ns", started[0] - queued)
            recorder.finish(handle, exc)
            raise
        _quietly(handle[1].set, "threadpool.wait_ns", started[0] - queued)
        recorder.finish(handle)
        return result

    return run_sync


def _wrap_serialize(original: Callable[..., Any]) -> Callable[..., Any]:
    async def serialize_response(*args: Any, **kwargs: Any) -> Any:
        if recorder.current.get() is None:
            return await original(*args, **kwargs)
        handle = None
        try:
            field = kwargs.get("field")
            model = type_name(field.field_info.annotation) if field is not None else None
            handle = recorder.start(
                f"serialize {model}" if model else "jsonable_encoder", "serialization", 7
            )
            if handle is not None and model:
                handle[1].set("response_model", model)
        except Exception as exc:
            report("serialization hook", exc)
        if handle is None:
            return await original(*args, **kwargs)
        try:
            result = await original(*args, **kwargs)
        except BaseException as exc:
            recorder.finish(handle, exc)
            raise
        if kwargs.get("field") is None:  # no response_model: nothing filtered the fields
            _quietly(_record_fields, handle[1], result)
        recorder.finish(handle)
        return result

    return serialize_response


MAX_FIELDS = 50


def _record_fields(span: RawSpan, encoded: Any) -> None:
    """Top-level field names of an unfiltered response (names only, never values)."""
    sample = encoded[0] if isinstance(encoded, list) and encoded else encoded
    if isinstance(sample, dict):
        names = sorted(str(key) for key in sample)
        span.set("response.fields", names[:MAX_FIELDS])
        if len(names) > MAX_FIELDS:
            span.set("response.fields_truncated", True)


def returned_kind(value: Any) -> str:
    """What a handler returned, in the words a reader of the trace needs."""
    if hasattr(value, "_sa_instance_state"):
        return "orm"
    if hasattr(type(value), "model_fields"):
        return "pydantic"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, list | tuple):
        if value and hasattr(value[0], "_sa_instance_state"):
            return "list[orm]"
        return "list"
    if hasattr(type(value), "__dataclass_fields__"):
        return "dataclass"
    from starlette.responses import Response

    return "response" if isinstance(value, Response) else "other"


def _wrap_render(original: Callable[..., Any]) -> Callable[..., Any]:
    def render(self: Any, content: Any) -> bytes:
        if recorder.current.get() is None:
            return original(self, content)  # type: ignore[no-any-return]
        handle = recorder.start(f"render {type(self).__name__}", "serialization", 7)
        if handle is None:
            return original(self, content)  # type: ignore[no-any-return]
        try:
            data: bytes = original(self, content)
        except BaseException as exc:
            recorder.finish(handle, exc)
            raise
        _quietly(handle[1].set, "response.bytes", len(data))
        recorder.finish(handle)
        return data

    return render


def _wrap_background(original: Callable[..., Any]) -> Callable[..., Any]:
    async def call(self: Any) -> None:
        rec = recorder.current.get()
        if rec is None:
            await original(self)
            return
        handle = None
        try:
            func = getattr(self, "func", None)
            handle = recorder.start(call_name(func), "background", 10)
            if handle is not None:
                handle[1].set("code.function", getattr(func, "__qualname__", call_name(func)))
                handle[1].set("background.after_response", rec.response_end >= 0)
        except Exception as exc:
            report("background hook", exc)
        if handle is None:
            await original(self)
            return
        try:
            await original(self)
        except BaseException as exc:
            recorder.finish(handle, exc)
            raise
        recorder.finish(handle)

    return call
