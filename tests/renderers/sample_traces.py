"""Realistic, deterministic traces of the demo app, built by hand per docs/trace-model.md.

Times are integer microseconds from the request start (turned into epoch
nanoseconds), so every renderer's output is exactly reproducible. The
middleware stack is the demo app's: ServerErrorMiddleware, CORSMiddleware,
the ``request_id_and_timing`` http middleware, GZipMiddleware,
ExceptionMiddleware.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracer.model import Phase, Span, SpanEvent, Trace

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z in ns

LAYERS: tuple[tuple[str, str], ...] = (
    ("ServerErrorMiddleware", "ServerErrorMiddleware"),
    ("CORSMiddleware", "CORSMiddleware"),
    ("request_id_and_timing", "BaseHTTPMiddleware"),
    ("GZipMiddleware", "GZipMiddleware"),
    ("ExceptionMiddleware", "ExceptionMiddleware"),
)
# way in: (start µs, time spent in the layer on the way in, ns)
LAYER_IN = ((20, 5_000), (25, 9_000), (34, 46_000), (80, 4_000), (84, 4_000))
# way out: time each layer holds the http.response.start message (µs), innermost first
LAYER_OUT = (6, 10, 64, 14, 3)
ROUTER_START = 88

SELECT_USER_BY_ID = (
    "SELECT users.id, users.email, users.password_hash, users.is_admin, users.created_at "
    "FROM users WHERE users.id = ?"
)


def _ns(us: int) -> int:
    return T0 + us * 1_000


class TraceBuilder:
    """Builds one trace: spans get sequential ids, times are µs after ``T0``."""

    def __init__(self, seed: int, method: str, path: str, query: str = "") -> None:
        self.seed = seed
        self.method = method
        self.path = path
        self.query = query
        self.spans: list[Span] = []

    def span(
        self,
        name: str,
        phase: Phase,
        step: int,
        start_us: int,
        end_us: int,
        parent: Span | None,
        attrs: dict[str, Any] | None = None,
    ) -> Span:
        span = Span(
            span_id=f"{self.seed:08x}{len(self.spans) + 1:08x}",
            parent_id=None if parent is None else parent.span_id,
            name=name,
            phase=phase,
            step=step,
            start_ns=_ns(start_us),
            end_ns=_ns(end_us),
            attributes=dict(attrs or {}),
        )
        self.spans.append(span)
        return span

    @staticmethod
    def raise_in(span: Span, exc_type: str, message: str, at_us: int) -> None:
        """``span`` raised: status error and an ``exception`` event."""
        span.status = "error"
        span.events.append(
            SpanEvent(
                "exception",
                _ns(at_us),
                {"exception.type": exc_type, "exception.message": message},
            )
        )

    @staticmethod
    def propagate(exc_type: str, *spans: Span) -> None:
        """The exception went through ``spans``: status error and ``error.type``."""
        for span in spans:
            span.status = "error"
            span.attributes["error.type"] = exc_type

    # -- building blocks shared by the traces ---------------------------------

    def root(self, end_us: int, status: int | None, route: str | None, origin: str) -> Span:
        attrs: dict[str, Any] = {
            "http.request.method": self.method,
            "url.path": self.path,
            "url.query": self.query,
            "http.response.status_code": status,
            "trace_request.response_origin": origin,
        }
        if route is not None:
            attrs["http.route"] = route
        name = f"{self.method} {route or self.path}"
        return self.span(name, "asgi", 1, 0, end_us, None, attrs)

    def middleware(self, root: Span, ends_us: tuple[int, ...]) -> list[Span]:
        """The five layers, each the child of the one above; ``ends_us`` outermost first."""
        layers: list[Span] = []
        parent = root
        for depth, ((name, cls), (start, request_ns), end) in enumerate(
            zip(LAYERS, LAYER_IN, ends_us, strict=True)
        ):
            attrs = {
                "middleware.class": cls,
                "middleware.depth": depth,
                "middleware.request_ns": request_ns,
            }
            parent = self.span(name, "middleware", 2, start, end, parent, attrs)
            layers.append(parent)
        return layers

    def way_out(self, layers: list[Span], start_us: int, origin: Span | None = None) -> int:
        """``<Layer> response`` spans, innermost first, from ``origin`` (or the innermost)."""
        at = start_us
        inner_first = list(zip(reversed(layers), LAYER_OUT, strict=True))
        if origin is not None:
            inner_first = inner_first[[s for s, _ in inner_first].index(origin) :]
        for layer, held in inner_first:
            self.span(f"{layer.name} response", "middleware", 8, at, at + held, layer)
            at += held
        return at

    def send(self, root: Span, start_us: int, status: int, body: list[tuple[int, int]]) -> int:
        """``send http.response.start`` then one body message per ``(start µs, bytes)``."""
        self.span(
            "send http.response.start",
            "send",
            9,
            start_us,
            start_us + 38,
            root,
            {"http.response.status_code": status},
        )
        end = start_us + 38
        for i, (at, size) in enumerate(body):
            last = i == len(body) - 1
            end = at + (22 if size == 0 else 28 + size // 4)
            attrs: dict[str, Any] = {"body.bytes": size, "more_body": not last}
            if last:
                attrs["response.complete"] = True
            self.span("send http.response.body", "send", 9, at, end, root, attrs)
        return end

    def router(
        self, parent: Span, end_us: int, match_end_us: int, route: str | None, endpoint: str | None
    ) -> Span:
        attrs: dict[str, Any] = {}
        if route is not None:
            attrs = {"http.route": route, "routing.endpoint": endpoint}
        router = self.span("router", "routing", 3, ROUTER_START, end_us, parent, attrs)
        self.span("match", "routing", 3, ROUTER_START, match_end_us, router)
        return router

    def build(
        self,
        *,
        response_end_us: int | None,
        status: int | None,
        response_headers: dict[str, str],
        headers: dict[str, str] | None = None,
        body_excerpt: str | None = None,
    ) -> Trace:
        request_headers = {
            "host": "testserver",
            "user-agent": "trace-request/0.1",
            "accept": "*/*",
            "origin": "https://app.example",
            **(headers or {}),
        }
        # headers travel as [name, value] pairs, as the recorder stores them
        request: dict[str, Any] = {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": [[k, v] for k, v in request_headers.items()],
        }
        if body_excerpt is not None:
            request["body_excerpt"] = body_excerpt
        end = None if response_end_us is None else _ns(response_end_us)
        root = self.spans[0]
        if end is not None:
            root.attributes["trace_request.response_ns"] = end - root.start_ns
        return Trace(
            trace_id=f"{self.seed:032x}",
            spans=self.spans,
            request=request,
            response={
                "status_code": status,
                "headers": [[k, v] for k, v in response_headers.items()],
            },
            response_end_ns=end,
            meta={"fastapi": "0.165.0", "starlette": "1.10.0", "app": "tracer.demo_app.main:app"},
        )


def _dep(
    b: TraceBuilder,
    name: str,
    kind: str,
    param: str,
    start: int,
    end: int,
    parent: Span,
    **extra: Any,
) -> Span:
    attrs = {"dependency.kind": kind, "dependency.param": param, **extra}
    return b.span(name, "dependency", 4, start, end, parent, attrs)


def _db(
    b: TraceBuilder,
    name: str,
    step: int,
    start: int,
    end: int,
    parent: Span,
    statement: str | None = None,
    rowcount: int | None = None,
) -> Span:
    operation = name.split()[0].upper()
    attrs: dict[str, Any] = {"db.system": "sqlite", "db.operation": operation}
    if statement is not None:
        attrs["db.statement"] = statement
    if rowcount is not None:
        attrs["db.rowcount"] = rowcount
    return b.span(name, "db", step, start, end, parent, attrs)


CORS_HEADERS = {
    "access-control-allow-origin": "https://app.example",
    "access-control-expose-headers": "X-Request-ID, Server-Timing",
    "vary": "Origin",
}


def _json_headers(size: int, **extra: str) -> dict[str, str]:
    return {
        "content-length": str(size),
        "content-type": "application/json",
        "x-request-id": "7f3a9c0e5b8d4e21a6c3f09d1b2e4a57",
        "server-timing": "app;dur=4.3",
        **CORS_HEADERS,
        **extra,
    }


def success_post_users() -> Trace:
    """POST /users → 201, a background e-mail, get_db torn down after the background task."""
    b = TraceBuilder(0x5C1E55, "POST", "/users")
    root = b.root(21_700, 201, "/users", "APIRoute")
    b.span(
        "receive http.request", "asgi", 1, 147, 159, root, {"body.bytes": 55, "more_body": False}
    )
    layers = b.middleware(root, (21_690, 21_684, 21_676, 21_660, 21_656))
    router = b.router(layers[-1], 21_650, 127, "/users", "create_user")
    route = b.span("route POST /users", "routing", 3, 127, 21_645, router, {"http.route": "/users"})
    b.span(
        "read body",
        "validation",
        5,
        136,
        165,
        route,
        {"validation.source": "body", "body.bytes": 55},
    )
    b.span("parse JSON", "validation", 5, 166, 178, route, {"validation.source": "body"})
    deps = b.span("solve_dependencies", "dependency", 4, 185, 552, route)
    _dep(b, "get_db", "async_generator", "db", 193, 231, deps)
    _dep(
        b,
        "get_sessionmaker",
        "sync",
        "sessionmaker",
        236,
        318,
        deps,
        **{"threadpool.wait_ns": 41_000},
    )
    b.span(
        "validate body",
        "validation",
        5,
        326,
        540,
        deps,
        {
            "validation.source": "body",
            "validation.fields": ["payload"],
            "validation.error_count": 0,
        },
    )
    handler = b.span(
        "create_user",
        "handler",
        6,
        560,
        3_950,
        route,
        {"handler.kind": "async", "code.function": "create_user"},
    )
    _db(b, "pool checkout", 6, 578, 640, handler)
    _db(
        b,
        "SELECT users",
        6,
        645,
        1_180,
        handler,
        "SELECT users.id FROM users WHERE users.email = ?",
        0,
    )
    _db(
        b,
        "INSERT users",
        6,
        2_610,
        3_020,
        handler,
        "INSERT INTO users (email, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?)",
        1,
    )
    _db(b, "COMMIT", 6, 3_030, 3_560, handler)
    _db(b, "SELECT users", 6, 3_575, 3_890, handler, SELECT_USER_BY_ID, 1)
    b.span(
        "serialize UserRead",
        "serialization",
        7,
        3_968,
        4_175,
        route,
        {"response_model": "UserRead", "response.bytes": 71},
    )
    b.span("render JSONResponse", "serialization", 7, 4_180, 4_215, route, {"response.bytes": 71})
    at = b.way_out(layers, 4_232)
    end = b.send(root, at, 201, [(4_402, 71)])
    task = b.span(
        "send_welcome_email",
        "background",
        10,
        4_520,
        21_380,
        route,
        {"code.function": "send_welcome_email", "background.after_response": True},
    )
    _db(b, "pool checkout", 10, 4_560, 4_610, task)
    _db(
        b,
        "INSERT outbox",
        10,
        4_640,
        5_120,
        task,
        "INSERT INTO outbox (recipient, subject, body, created_at) VALUES (?, ?, ?, ?)",
        1,
    )
    _db(b, "COMMIT", 10, 5_130, 21_310, task)
    _dep(
        b,
        "get_db teardown",
        "async_generator",
        "db",
        21_420,
        21_600,
        route,
        **{"dependency.teardown": True},
    )
    return b.build(
        response_end_us=end,
        status=201,
        response_headers=_json_headers(71),
        headers={"content-type": "application/json", "content-length": "55"},
        body_excerpt='{"email": "ada@example.com", "password": "[redacted]"}',
    )


def validation_422() -> Trace:
    """GET /search?q=p → 422: the query fails min_length=2 after get_db already ran."""
    b = TraceBuilder(0x422, "GET", "/search", "q=p")
    root = b.root(1_840, 422, "/search", "APIRoute")
    layers = b.middleware(root, (1_830, 1_824, 1_818, 1_806, 1_800))
    router = b.router(layers[-1], 1_795, 124, "/search", "search")
    route = b.span("route GET /search", "routing", 3, 124, 1_790, router, {"http.route": "/search"})
    deps = b.span("solve_dependencies", "dependency", 4, 130, 428, route)
    _dep(b, "get_db", "async_generator", "db", 138, 176, deps)
    query = b.span(
        "validate query",
        "validation",
        5,
        184,
        415,
        deps,
        {
            "validation.source": "query",
            "validation.fields": ["q", "page", "size"],
            "validation.error_count": 1,
            "validation.errors": [
                "query.q: String should have at least 2 characters (string_too_short)"
            ],
        },
    )
    query.status = "error"
    b.raise_in(route, "RequestValidationError", "1 validation error: query.q", 437)
    teardown = _dep(
        b,
        "get_db teardown",
        "async_generator",
        "db",
        445,
        482,
        route,
        **{"dependency.teardown": True},
    )
    b.propagate("RequestValidationError", teardown)
    b.span("render JSONResponse", "serialization", 7, 505, 552, route, {"response.bytes": 138})
    at = b.way_out(layers, 570)
    end = b.send(root, at, 422, [(at + 65, 138)])
    return b.build(response_end_us=end, status=422, response_headers=_json_headers(138))


def server_error_500() -> Trace:
    """GET /users-with-items → 500: a SELECT fails, ServerErrorMiddleware sends a bare 500."""
    b = TraceBuilder(0x500, "GET", "/users-with-items")
    root = b.root(3_420, 500, "/users-with-items", "ServerErrorMiddleware")
    layers = b.middleware(root, (3_400, 3_238, 3_232, 3_216, 3_212))
    router = b.router(layers[-1], 3_205, 131, "/users-with-items", "users_with_items_n_plus_one")
    route = b.span(
        "route GET /users-with-items",
        "routing",
        3,
        131,
        3_200,
        router,
        {"http.route": "/users-with-items"},
    )
    deps = b.span("solve_dependencies", "dependency", 4, 140, 226, route)
    _dep(b, "get_db", "async_generator", "db", 148, 190, deps)
    handler = b.span(
        "users_with_items_n_plus_one",
        "handler",
        6,
        240,
        2_700,
        route,
        {"handler.kind": "async", "code.function": "users_with_items_n_plus_one"},
    )
    _db(b, "pool checkout", 6, 262, 318, handler)
    _db(
        b,
        "SELECT users",
        6,
        322,
        790,
        handler,
        "SELECT users.id, users.email, users.password_hash, users.is_admin, users.created_at "
        "FROM users ORDER BY users.id",
        3,
    )
    failing = _db(
        b,
        "SELECT items",
        6,
        835,
        2_610,
        handler,
        "SELECT items.id, items.name, items.description, items.owner_id FROM items "
        "WHERE items.owner_id = ? ORDER BY items.id",
    )
    b.raise_in(failing, "OperationalError", "no such column: items.owner_id", 2_600)
    teardown = _dep(
        b,
        "get_db teardown",
        "async_generator",
        "db",
        2_730,
        3_050,
        route,
        **{"dependency.teardown": True},
    )
    _db(b, "ROLLBACK", 4, 2_760, 2_990, teardown)
    b.propagate("OperationalError", handler, teardown, route, router, *layers[1:])
    server_error = layers[0]
    at = b.way_out(layers, 3_250, origin=server_error)
    end = b.send(root, at, 500, [(at + 56, 21)])
    b.propagate("OperationalError", server_error, root)
    return b.build(
        response_end_us=end,
        status=500,
        response_headers={"content-length": "21", "content-type": "text/plain; charset=utf-8"},
    )


def not_found_404() -> Trace:
    """GET /users/42/avatar → 404: no route matches; ExceptionMiddleware answers."""
    b = TraceBuilder(0x404, "GET", "/users/42/avatar")
    root = b.root(1_020, 404, None, "ExceptionMiddleware")
    layers = b.middleware(root, (1_002, 996, 990, 946, 940))
    router = b.router(layers[-1], 410, 398, None, None)
    router.attributes["routing.status"] = 404
    b.raise_in(router, "HTTPException", "404: Not Found", 402)
    b.span("render JSONResponse", "serialization", 7, 430, 462, layers[-1], {"response.bytes": 22})
    at = b.way_out(layers, 470)
    end = b.send(root, at, 404, [(at + 57, 22)])
    return b.build(response_end_us=end, status=404, response_headers=_json_headers(22))


def unauthorized_401() -> Trace:
    """GET /users/me → 401: get_current_user finds no user for the token."""
    b = TraceBuilder(0x401, "GET", "/users/me")
    root = b.root(2_150, 401, "/users/me", "APIRoute")
    layers = b.middleware(root, (2_140, 2_134, 2_128, 2_110, 2_104))
    router = b.router(layers[-1], 2_100, 140, "/users/me", "read_me")
    route = b.span(
        "route GET /users/me", "routing", 3, 140, 2_095, router, {"http.route": "/users/me"}
    )
    deps = b.span("solve_dependencies", "dependency", 4, 150, 1_430, route)
    user = _dep(b, "get_current_user", "async", "user", 160, 1_420, deps)
    _dep(b, "oauth2_scheme", "async", "token", 168, 215, user)
    _dep(b, "get_db", "async_generator", "db", 222, 262, user)
    _dep(b, "get_settings", "sync", "settings", 268, 330, user, **{"threadpool.wait_ns": 36_000})
    _db(b, "pool checkout", 4, 420, 470, user)
    _db(b, "SELECT users", 4, 478, 1_380, user, SELECT_USER_BY_ID, 0)
    b.raise_in(user, "HTTPException", "401: invalid or expired token", 1_410)
    b.propagate("HTTPException", deps)
    teardown = _dep(
        b,
        "get_db teardown",
        "async_generator",
        "db",
        1_450,
        1_520,
        route,
        **{"dependency.teardown": True},
    )
    b.propagate("HTTPException", teardown)
    b.span("render JSONResponse", "serialization", 7, 1_560, 1_590, route, {"response.bytes": 37})
    at = b.way_out(layers, 1_610)
    end = b.send(root, at, 401, [(at + 60, 37)])
    return b.build(
        response_end_us=end,
        status=401,
        response_headers=_json_headers(37, **{"www-authenticate": "Bearer"}),
        headers={"authorization": "[redacted]"},
    )


def streaming_200() -> Trace:
    """GET /stream → 200: the handler returns at once, five chunks follow ~1.1ms apart."""
    b = TraceBuilder(0x57AE, "GET", "/stream")
    root = b.root(6_350, 200, "/stream", "APIRoute")
    layers = b.middleware(root, (6_340, 6_334, 6_320, 6_306, 6_302))
    router = b.router(layers[-1], 6_300, 120, "/stream", "stream")
    route = b.span("route GET /stream", "routing", 3, 120, 6_295, router, {"http.route": "/stream"})
    b.span("solve_dependencies", "dependency", 4, 128, 150, route)
    b.span(
        "stream",
        "handler",
        6,
        158,
        190,
        route,
        {"handler.kind": "async", "code.function": "stream"},
    )
    at = b.way_out(layers, 205)
    chunks = [(1_360 + n * 1_110, 8) for n in range(5)] + [(5_840, 0)]
    end = b.send(root, at, 200, chunks)
    return b.build(
        response_end_us=end,
        status=200,
        response_headers={
            "content-type": "text/plain; charset=utf-8",
            "x-request-id": "7f3a9c0e5b8d4e21a6c3f09d1b2e4a57",
            "server-timing": "app;dur=0.3",
            **CORS_HEADERS,
        },
    )


def large_trace(db_spans: int = 995) -> Trace:
    """A synthetic N+1 trace with ``db_spans`` statements (1,000 spans with the default)."""
    b = TraceBuilder(0x1000, "GET", "/users-with-items")
    total = 200 + db_spans * 20 + 400
    root = b.root(total, 200, "/users-with-items", "APIRoute")
    router = b.router(root, total - 10, 40, "/users-with-items", "users_with_items_n_plus_one")
    route = b.span("route GET /users-with-items", "routing", 3, 40, total - 20, router)
    handler = b.span(
        "users_with_items_n_plus_one",
        "handler",
        6,
        100,
        total - 300,
        route,
        {"handler.kind": "async"},
    )
    for n in range(db_spans):
        start = 200 + n * 20
        _db(
            b,
            "SELECT items",
            6,
            start,
            start + 15,
            handler,
            "SELECT items.id, items.name FROM items WHERE items.owner_id = ?",
            n % 7,
        )
    end = b.send(root, total - 200, 200, [(total - 120, 4_096)])
    return b.build(response_end_us=end, status=200, response_headers={"content-length": "4096"})


#: name → factory, for the golden tests
SAMPLES: dict[str, Callable[[], Trace]] = {
    "success": success_post_users,
    "422": validation_422,
    "500": server_error_500,
    "404": not_found_404,
    "401": unauthorized_401,
    "stream": streaming_200,
}
