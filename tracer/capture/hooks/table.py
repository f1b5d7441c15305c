"""The hook table: every FastAPI / Starlette / anyio / httpx attribute the tracer patches.

One row per hook point: what is patched (alternatives across versions,
newest first), the phase and step of its spans, how they are named, which
parameters the wrapper reads (resolved against the real signature when it is
patched), and the wrapper. Rows whose spans are only right together share a
``group``: the dependency spans are opened by ``solve_dependencies`` and
closed by whichever of the generator hook, ``run_in_threadpool`` or
``request_params_to_args`` runs next, so without one of them a dependency
would get a wrong end time; the group is then skipped as a whole.

``tests/tracer/test_hook_table.py`` checks every row against the installed
FastAPI on every matrix version (``scripts/matrix.sh``).
"""

from __future__ import annotations

from tracer.capture.hooks import (
    clients,
    dependencies,
    exceptions,
    fields,
    gaps,
    outbound,
    routing,
    spans,
    threadpool,
)
from tracer.capture.hooks.patching import Patcher
from tracer.capture.hooks.points import HookPoint, Target
from tracer.capture.hooks.points import install as install_points

_FA = "fastapi.routing"
_DEPS = "fastapi.dependencies.utils"

#: What a group records, for its one warning when a member is missing.
GROUPS = {"dependency": "the dependency phase (and parameter validation)"}

HOOKS: tuple[HookPoint, ...] = (
    # -- routing (3) ------------------------------------------------------------------------
    HookPoint(
        "routing",
        "routing",
        3,
        "route {path}",
        (
            Target(
                "starlette.routing", "Route.handle", leading=("self", "scope", "receive", "send")
            ),
        ),
        routing.wrap_handle,
    ),
    HookPoint(  # FastAPI 0.137+ (router tree); before, APIRoute inherits Route.handle (above)
        "routing",
        "routing",
        3,
        "route {path}",
        (
            Target(
                _FA,
                "APIRoute.handle",
                leading=("self", "scope", "receive", "send"),
                since=(0, 137),
            ),
        ),
        routing.wrap_handle,
        optional=True,
    ),
    HookPoint(  # 0.137+: an included route's prefixed template lives on its effective context
        "routing (included router prefix)",
        "routing",
        3,
        "(none: reads the template FastAPI resolved)",
        (Target(_FA, "_get_scope_effective_route_context", reads=("scope",), since=(0, 137)),),
        routing.bind_effective_context,
        asynchronous=False,
        optional=True,
        patch=False,
    ),
    HookPoint(
        "routing (mount)",
        "routing",
        3,
        "{mounted app class} {mount path} (handler, 6, for a non-router app)",
        (
            Target(
                "starlette.routing", "Mount.handle", leading=("self", "scope", "receive", "send")
            ),
        ),
        routing.wrap_mount,
    ),
    HookPoint(  # 0.124+: reads the endpoint's source once per endpoint
        "routing (endpoint inspection)",
        "routing",
        3,
        gaps.ENDPOINT_INSPECTION,
        (Target(_FA, "_extract_endpoint_context", reads=("func",), since=(0, 124)),),
        gaps.wrap_endpoint_inspection,
        asynchronous=False,
        optional=True,
    ),
    # -- dependencies (4) -------------------------------------------------------------------
    HookPoint(  # the top-level call, from the request handler
        "dependency",
        "dependency",
        4,
        "solve_dependencies",
        (
            Target(
                _FA,
                "solve_dependencies",
                reads=("dependant", "dependency_cache"),
                optional_reads=("_uses_scopes_cache",),  # FastAPI 0.140+
            ),
        ),
        dependencies.wrap_solve,
        group="dependency",
    ),
    HookPoint(  # the recursion: one call per dependency
        "dependency",
        "dependency",
        4,
        "{dependency function}",
        (
            Target(
                _DEPS,
                "solve_dependencies",
                reads=("dependant", "dependency_cache"),
                optional_reads=("_uses_scopes_cache",),
            ),
        ),
        dependencies.wrap_solve,
        group="dependency",
    ),
    HookPoint(
        "dependency (yield)",
        "dependency",
        4,
        "{dependency function} teardown",
        (
            Target(_DEPS, "_solve_generator", reads=("dependant", "stack"), since=(0, 121)),
            Target(_DEPS, "solve_generator", reads=("call", "stack"), until=(0, 121)),
        ),
        dependencies.wrap_generator,
        group="dependency",
    ),
    HookPoint(  # a ``def`` dependency's call (closes its pending span, records the wait)
        "dependency",
        "dependency",
        4,
        "(none: ends the dependency's span)",
        (Target(_DEPS, "run_in_threadpool", leading=("func",)),),
        dependencies.wrap_threadpool,
        group="dependency",
    ),
    # -- validation (5) ---------------------------------------------------------------------
    HookPoint(
        "validation",
        "validation",
        5,
        "validate {path|query|header|cookie}",
        (Target(_DEPS, "request_params_to_args", reads=("fields",)),),
        spans.PARAMS,
        asynchronous=False,
        group="dependency",  # it also closes the pending span of an ``async def`` dependency
    ),
    HookPoint(
        "validation",
        "validation",
        5,
        "validate body",
        (Target(_DEPS, "request_body_to_args", reads=("body_fields",)),),
        spans.BODY_FIELDS,
    ),
    HookPoint(
        "validation (body read)",
        "validation",
        5,
        "read body",
        (Target("starlette.requests", "Request.body", reads=("self",)),),
        spans.BODY,
    ),
    HookPoint(
        "validation (JSON parse)",
        "validation",
        5,
        "parse JSON",
        (Target("starlette.requests", "Request.json", reads=("self",)),),
        spans.JSON,
    ),
    # -- handler (6) ------------------------------------------------------------------------
    HookPoint(
        "handler",
        "handler",
        6,
        "{endpoint function}",
        (Target(_FA, "run_endpoint_function", reads=("dependant", "is_coroutine")),),
        spans.ENDPOINT,
    ),
    HookPoint(  # a ``def`` endpoint (and its response validation) in the threadpool
        "threadpool",
        "handler",
        6,
        "threadpool wait (phase and step of the span it waits under)",
        (Target(_FA, "run_in_threadpool", leading=("func",)),),
        threadpool.wrap_wait,
    ),
    HookPoint(
        "threadpool (app code)",
        "handler",
        6,
        "threadpool {function} (phase and step of its parent)",
        (Target("anyio.to_thread", "run_sync", leading=("func",)),),
        threadpool.wrap_run_sync,
    ),
    HookPoint(  # only called when the event loop's anyio backend is not loaded yet
        "anyio backend import",
        "handler",
        6,
        "anyio backend import (first call) (phase and step of its parent)",
        (Target("anyio._core._eventloop", "import_module", leading=("name",)),),
        gaps.wrap_backend_import,
        asynchronous=False,
    ),
    # -- outbound HTTP (the step of the span it runs in) -------------------------------------
    HookPoint(  # httpx is a dependency of ours; any version from 0.27 has these
        "outbound HTTP (httpx.AsyncClient)",
        "outbound",
        6,
        "{METHOD} {host}/{path template} (step of its parent)",
        (Target("httpx", "AsyncClient.send", leading=("self", "request")),),
        outbound.wrap_async_send,
    ),
    HookPoint(
        "outbound HTTP (httpx.Client)",
        "outbound",
        6,
        "{METHOD} {host}/{path template} (step of its parent)",
        (Target("httpx", "Client.send", leading=("self", "request")),),
        outbound.wrap_sync_send,
        asynchronous=False,
    ),
    HookPoint(  # clients opened in the lifespan or per request
        "httpx client open (AsyncClient)",
        "handler",
        6,
        "httpx client open (phase and step of its parent)",
        (Target("httpx", "AsyncClient.__aenter__", leading=("self",)),),
        clients.async_lifecycle("open"),
    ),
    HookPoint(
        "httpx client close (AsyncClient)",
        "handler",
        6,
        "httpx client close (phase and step of its parent)",
        (Target("httpx", "AsyncClient.aclose", leading=("self",)),),
        clients.async_lifecycle("close"),
    ),
    HookPoint(  # ``async with`` closes the transports itself, not through ``aclose``
        "httpx client close (AsyncClient context)",
        "handler",
        6,
        "httpx client close (phase and step of its parent)",
        (Target("httpx", "AsyncClient.__aexit__", leading=("self",)),),
        clients.async_lifecycle("close"),
    ),
    HookPoint(
        "httpx client open (Client)",
        "handler",
        6,
        "httpx client open (phase and step of its parent)",
        (Target("httpx", "Client.__enter__", leading=("self",)),),
        clients.sync_lifecycle("open"),
        asynchronous=False,
    ),
    HookPoint(
        "httpx client close (Client)",
        "handler",
        6,
        "httpx client close (phase and step of its parent)",
        (Target("httpx", "Client.close", leading=("self",)),),
        clients.sync_lifecycle("close"),
        asynchronous=False,
    ),
    HookPoint(
        "httpx client close (Client context)",
        "handler",
        6,
        "httpx client close (phase and step of its parent)",
        (Target("httpx", "Client.__exit__", leading=("self",)),),
        clients.sync_lifecycle("close"),
        asynchronous=False,
    ),
    # -- serialization (7) ------------------------------------------------------------------
    HookPoint(
        "serialization",
        "serialization",
        7,
        "serialize {response_model} | jsonable_encoder",
        (
            Target(
                _FA,
                "serialize_response",
                reads=("field", "response_content", "include", "exclude"),
            ),
        ),
        spans.SERIALIZE,
    ),
    HookPoint(
        "serialization",
        "serialization",
        7,
        "render {response class}",
        (Target("starlette.responses", "JSONResponse.render", reads=("self",)),),
        spans.RENDER,
        asynchronous=False,
    ),
    # -- exception handlers (8: the error response on the way out) ---------------------------
    HookPoint(  # by the exception's class; Starlette 0.46+ (FastAPI 0.115+) all have it
        "exception handler",
        "serialization",
        8,
        "{handler function} (inside the route or ExceptionMiddleware that caught it)",
        (
            Target(
                "starlette._exception_handler",
                "_lookup_exception_handler",
                leading=("exc_handlers", "exc"),
            ),
        ),
        exceptions.wrap_lookup,
        asynchronous=False,
    ),
    # -- background (10) --------------------------------------------------------------------
    HookPoint(  # FastAPI 0.142+ overrides BackgroundTasks.__call__: patch the per-task class
        "background",
        "background",
        10,
        "{task function}",
        (Target("starlette.background", "BackgroundTask.__call__", reads=("self",)),),
        spans.BACKGROUND,
    ),
)


def install(patcher: Patcher) -> set[str]:
    """Patch every hook point this FastAPI/Starlette version offers; returns what was patched."""
    installed = install_points(patcher, HOOKS, GROUPS)
    routing.hooked = "starlette.routing.Route.handle" in installed
    if f"{_FA}._get_scope_effective_route_context" not in installed:
        routing.effective_context = None
    return installed


def forget() -> None:
    """The patches were restored (:meth:`Patcher.restore`)."""
    routing.hooked = False
    routing.effective_context = None
    fields.forget()
