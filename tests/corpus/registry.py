"""Every corpus app, the requests to send it, and :func:`record_corpus` to record their traces.

Each :class:`CorpusRequest` states what the app must answer (``status``), the
route template FastAPI itself resolves for it (``route``: the full path format
including every ``include_router`` prefix, e.g. ``/api/v1/users/{user_id}``;
``None`` when no route matched or a mount served it; for a mount,
``mounted_route`` is what FastAPI's own telemetry resolves, e.g.
``/static/{path}``, ``/admin/items/{item_id}``; tests/corpus/oracle.py checks
both columns against FastAPI itself), and whether it is
``clean``: an ordinary request, answered as the app intends, on which no
finding should fire. Clean includes successes, token endpoints, first
(cold) requests, and intentional 4xx answers raised by the app
(``HTTPException`` 400/401/403/404 in a handler or a dependency). Not clean:
validation 422s, unhandled 500s, requests no route matched, a static file that
is not there, and requests that queued behind their neighbours for a
one-connection pool (a finding may rightly explain those: ``waiting`` names
the pool wait).
"""

import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI

import tracer
from tests.corpus.apps import (
    async_chain,
    cold_warm,
    fastapi_users_app,
    middleware,
    mounts,
    pool,
    routers,
    sqlmodel_sync,
)
from tests.corpus.apps.auth import bearer
from tests.corpus.driver import Answer, client, lifespan, send
from tracer.model import Trace


@dataclass(frozen=True)
class CorpusRequest:
    label: str
    method: str
    path: str
    status: int
    route: str | None
    clean: bool
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    data: Mapping[str, str] | None = None
    #: sent this many times at once (one trace each)
    concurrency: int = 1
    #: the mount that served it (``route`` is then None)
    mount: str | None = None
    #: for a mount: the template FastAPI's own telemetry resolves (mount path + inner route)
    mounted_route: str | None = None
    #: the route is reached through ``include_router(…, prefix=…)``
    include_prefix: bool = False


@dataclass(frozen=True)
class CorpusApp:
    name: str
    create: Callable[[Path], FastAPI]
    shapes: tuple[str, ...]
    requests: tuple[CorpusRequest, ...]

    def request(self, label: str) -> CorpusRequest:
        return next(r for r in self.requests if r.label == label)


@dataclass(frozen=True)
class CorpusTrace:
    app: str
    request: CorpusRequest
    status: int
    route: str | None
    clean: bool
    trace: Trace
    answer: Answer

    @property
    def id(self) -> str:
        return f"{self.app}:{self.request.label}"


def _req(
    label: str, method: str, path: str, status: int, route: str | None, **kw: Any
) -> CorpusRequest:
    clean = kw.pop(
        "clean", status < 400 or status in (400, 401, 403) or (status == 404 and route is not None)
    )
    return CorpusRequest(label, method, path, status, route, clean, **kw)


V1 = "/api/v1"
SM_ADMIN, SM_USER = bearer(1), bearer(2)
FU_ADMIN = fastapi_users_app.bearer(fastapi_users_app.ADMIN_ID)
FU_MEMBER = fastapi_users_app.bearer(fastapi_users_app.MEMBER_ID)


def _uid(value: uuid.UUID) -> str:
    return str(value)


APPS: tuple[CorpusApp, ...] = (
    CorpusApp(
        "routers",
        routers.create_app,
        ("include_router prefix", "nested routers", "path parameters", "404/422"),
        (
            _req("health", "GET", "/health", 200, "/health"),
            _req("list", "GET", f"{V1}/users/", 200, f"{V1}/users/", include_prefix=True),
            _req(
                "read", "GET", f"{V1}/users/1", 200, f"{V1}/users/{{user_id}}", include_prefix=True
            ),
            _req(
                "read-404",
                "GET",
                f"{V1}/users/99",
                404,
                f"{V1}/users/{{user_id}}",
                include_prefix=True,
            ),
            _req(
                "read-422",
                "GET",
                f"{V1}/users/abc",
                422,
                f"{V1}/users/{{user_id}}",
                include_prefix=True,
            ),
            _req(
                "create",
                "POST",
                f"{V1}/users/",
                201,
                f"{V1}/users/",
                json={"name": "cy", "email": "cy@example.com"},
                include_prefix=True,
            ),
            _req(
                "create-422",
                "POST",
                f"{V1}/users/",
                422,
                f"{V1}/users/",
                json={"name": ""},
                include_prefix=True,
            ),
            _req("org", "GET", f"{V1}/orgs/3", 200, f"{V1}/orgs/{{org_id}}", include_prefix=True),
            _req(
                "team",
                "GET",
                f"{V1}/orgs/3/teams/4",
                200,
                f"{V1}/orgs/{{org_id}}/teams/{{team_id}}",
                include_prefix=True,
            ),
            _req(
                "item",
                "GET",
                f"{V1}/items/5?q=x",
                200,
                f"{V1}/items/{{item_id}}",
                include_prefix=True,
            ),
            _req("v2", "GET", "/api/v2/users/1", 200, "/api/v2/users/{user_id}"),
            _req("unmatched", "GET", f"{V1}/nowhere", 404, None),
        ),
    ),
    CorpusApp(
        "mounts",
        mounts.create_app,
        ("StaticFiles mount", "mounted sub-application", "SPA fallback"),
        (
            _req("api", "GET", "/api/hello", 200, "/api/hello"),
            _req(
                "static",
                "GET",
                "/static/hello.txt",
                200,
                None,
                mount="/static",
                mounted_route="/static/{path}",
                clean=True,
            ),
            _req(
                "static-nested",
                "GET",
                "/static/css/site.css",
                200,
                None,
                mount="/static",
                mounted_route="/static/{path}",
                clean=True,
            ),
            _req(
                "static-404",
                "GET",
                "/static/missing.txt",
                404,
                None,
                mount="/static",
                mounted_route="/static/{path}",
            ),
            _req(
                "sub-app",
                "GET",
                "/admin/items/2",
                200,
                None,
                mount="/admin",
                mounted_route="/admin/items/{item_id}",
                clean=True,
            ),
            _req(
                "sub-app-root",
                "GET",
                "/admin/",
                200,
                None,
                mount="/admin",
                mounted_route="/admin/",
                clean=True,
            ),
            _req("spa-root", "GET", "/", 200, "/{full_path}"),
            _req("spa-deep", "GET", "/dashboard/settings", 200, "/{full_path}"),
        ),
    ),
    CorpusApp(
        "middleware",
        middleware.create_app,
        ("@app.middleware('http')", "pure ASGI middleware", "streaming", "background", "500"),
        (
            _req("ping", "GET", "/ping", 200, "/ping"),
            _req("echo", "POST", "/echo", 200, "/echo", json={"text": "hi", "count": 2}),
            _req("echo-422", "POST", "/echo", 422, "/echo", json={"count": "many"}),
            _req("stream", "GET", "/stream", 200, "/stream"),
            _req("background", "POST", "/jobs", 202, "/jobs"),
            _req("boom", "GET", "/boom", 500, "/boom"),
            _req("sync-boom", "GET", "/sync-boom", 500, "/sync-boom"),
        ),
    ),
    CorpusApp(
        "sqlmodel_sync",
        sqlmodel_sync.create_app,
        (
            "SQLModel sync Session yield dependency",
            "def endpoints",
            "sync SQLAlchemy in async def",
            "OAuth2 password flow",
            "dependency cache hit",
            "include_router prefix",
        ),
        (
            _req(
                "token",
                "POST",
                f"{V1}/login/access-token",
                200,
                f"{V1}/login/access-token",
                data={"username": "user@example.com", "password": "user-pw"},
                include_prefix=True,
            ),
            _req(
                "token-400",
                "POST",
                f"{V1}/login/access-token",
                400,
                f"{V1}/login/access-token",
                data={"username": "user@example.com", "password": "wrong"},
                include_prefix=True,
            ),
            _req(
                "me",
                "GET",
                f"{V1}/users/me",
                200,
                f"{V1}/users/me",
                headers=SM_USER,
                include_prefix=True,
            ),
            _req("me-401", "GET", f"{V1}/users/me", 401, f"{V1}/users/me", include_prefix=True),
            _req(
                "me-bad-token",
                "GET",
                f"{V1}/users/me",
                401,
                f"{V1}/users/me",
                headers={"Authorization": "Bearer 2.forged"},
                include_prefix=True,
            ),
            _req(
                "users-superuser",
                "GET",
                f"{V1}/users/",
                200,
                f"{V1}/users/",
                headers=SM_ADMIN,
                include_prefix=True,
            ),
            _req(
                "users-403",
                "GET",
                f"{V1}/users/",
                403,
                f"{V1}/users/",
                headers=SM_USER,
                include_prefix=True,
            ),
            _req(
                "user",
                "GET",
                f"{V1}/users/2",
                200,
                f"{V1}/users/{{user_id}}",
                headers=SM_USER,
                include_prefix=True,
            ),
            _req(
                "user-404-handler",
                "GET",
                f"{V1}/users/42",
                404,
                f"{V1}/users/{{user_id}}",
                headers=SM_USER,
                include_prefix=True,
            ),
            _req(
                "item",
                "GET",
                f"{V1}/items/1",
                200,
                f"{V1}/items/{{item_id}}",
                headers=SM_USER,
                include_prefix=True,
            ),
            _req(
                "item-404-dependency",
                "GET",
                f"{V1}/items/7",
                404,
                f"{V1}/items/{{item_id}}",
                headers=SM_USER,
                include_prefix=True,
            ),
            _req(
                "item-create",
                "POST",
                f"{V1}/items/",
                201,
                f"{V1}/items/",
                headers=SM_USER,
                json={"title": "second"},
                include_prefix=True,
            ),
            _req(
                "item-create-422",
                "POST",
                f"{V1}/items/",
                422,
                f"{V1}/items/",
                headers=SM_USER,
                json={"description": "no title"},
                include_prefix=True,
            ),
            _req(
                "stats-async-sync-db",
                "GET",
                f"{V1}/utils/stats",
                200,
                f"{V1}/utils/stats",
                include_prefix=True,
            ),
            _req(
                "health",
                "GET",
                f"{V1}/utils/health-check/",
                200,
                f"{V1}/utils/health-check/",
                include_prefix=True,
            ),
        ),
    ),
    CorpusApp(
        "async_chain",
        async_chain.create_app,
        (
            "async SQLAlchemy",
            "yield dependency chain",
            "dependency cache hit",
            "OAuth2 password flow",
            "500 with rollback",
        ),
        (
            _req(
                "token",
                "POST",
                "/api/token",
                200,
                "/api/token",
                data={"username": "alice@example.com", "password": "alice-pw"},
                include_prefix=True,
            ),
            _req(
                "token-400",
                "POST",
                "/api/token",
                400,
                "/api/token",
                data={"username": "alice@example.com", "password": "nope"},
                include_prefix=True,
            ),
            _req("me", "GET", "/api/me", 200, "/api/me", headers=bearer(2), include_prefix=True),
            _req("me-401", "GET", "/api/me", 401, "/api/me", include_prefix=True),
            _req(
                "admin-stats",
                "GET",
                "/api/admin/stats",
                200,
                "/api/admin/stats",
                headers=bearer(1),
                include_prefix=True,
            ),
            _req(
                "admin-403",
                "GET",
                "/api/admin/stats",
                403,
                "/api/admin/stats",
                headers=bearer(2),
                include_prefix=True,
            ),
            _req(
                "note",
                "GET",
                "/api/notes/1",
                200,
                "/api/notes/{note_id}",
                headers=bearer(2),
                include_prefix=True,
            ),
            _req(
                "note-404-dependency",
                "GET",
                "/api/notes/1",
                404,
                "/api/notes/{note_id}",
                headers=bearer(1),
                include_prefix=True,
            ),
            _req(
                "note-create",
                "POST",
                "/api/notes",
                201,
                "/api/notes",
                headers=bearer(2),
                json={"text": "new"},
                include_prefix=True,
            ),
            _req(
                "note-create-422",
                "POST",
                "/api/notes",
                422,
                "/api/notes",
                headers=bearer(2),
                json={"text": ""},
                include_prefix=True,
            ),
            _req(
                "crash-500",
                "GET",
                "/api/crash",
                500,
                "/api/crash",
                headers=bearer(2),
                include_prefix=True,
            ),
        ),
    ),
    CorpusApp(
        "fastapi_users",
        fastapi_users_app.create_app,
        (
            "fastapi-users",
            "async SQLAlchemy",
            "yield dependency chain",
            "OAuth2 password flow",
            "include_router prefix",
        ),
        (
            _req(
                "login",
                "POST",
                "/auth/jwt/login",
                200,
                "/auth/jwt/login",
                data={"username": "member@example.com", "password": "member-pw"},
                include_prefix=True,
            ),
            _req(
                "login-400",
                "POST",
                "/auth/jwt/login",
                400,
                "/auth/jwt/login",
                data={"username": "member@example.com", "password": "bad"},
                include_prefix=True,
            ),
            _req(
                "me", "GET", "/users/me", 200, "/users/me", headers=FU_MEMBER, include_prefix=True
            ),
            _req("me-401", "GET", "/users/me", 401, "/users/me", include_prefix=True),
            _req(
                "user-superuser",
                "GET",
                f"/users/{_uid(fastapi_users_app.MEMBER_ID)}",
                200,
                "/users/{id}",
                headers=FU_ADMIN,
                include_prefix=True,
            ),
            _req(
                "user-403",
                "GET",
                f"/users/{_uid(fastapi_users_app.ADMIN_ID)}",
                403,
                "/users/{id}",
                headers=FU_MEMBER,
                include_prefix=True,
            ),
            _req(
                "user-404-dependency",
                "GET",
                f"/users/{_uid(fastapi_users_app.MISSING_ID)}",
                404,
                "/users/{id}",
                headers=FU_ADMIN,
                include_prefix=True,
            ),
            _req(
                "authenticated",
                "GET",
                "/authenticated-route",
                200,
                "/authenticated-route",
                headers=FU_MEMBER,
            ),
        ),
    ),
    CorpusApp(
        "cold_warm",
        cold_warm.create_app,
        ("first request vs warm requests",),
        (
            _req("cold", "GET", "/search?q=p", 200, "/search"),
            _req("warm", "GET", "/search?q=p", 200, "/search"),
            _req("warm-again", "GET", "/search?q=p", 200, "/search"),
        ),
    ),
    CorpusApp(
        "pool",
        pool.create_app,
        ("concurrent requests", "pool_size=1 max_overflow=0", "async and threadpool waits"),
        (
            # five at once on one connection: four of them wait, and `waiting` says so
            _req("hold-async", "GET", "/hold", 200, "/hold", concurrency=5, clean=False),
            _req("hold-sync", "GET", "/hold-sync", 200, "/hold-sync", concurrency=5, clean=False),
        ),
    ),
)


def app_named(name: str) -> CorpusApp:
    return next(app for app in APPS if app.name == name)


@dataclass(frozen=True)
class Exchange:
    """One registry request as sent: what came back and, when traced, the traces."""

    app: str
    request: CorpusRequest
    answers: list[Answer]
    traces: list[Trace]
    #: what ``collect`` returned right after this request (see :func:`drive_corpus`)
    collected: Any = None


Configure = Callable[[FastAPI], None]
Collect = Callable[[], Any]


async def _drive(
    spec: CorpusApp, *, traced: bool, configure: Configure | None, collect: Collect | None
) -> list[Exchange]:
    traces: list[Trace] = []
    exchanges: list[Exchange] = []
    with tempfile.TemporaryDirectory(prefix=f"corpus-{spec.name}-") as workdir:
        app = spec.create(Path(workdir))
        if configure is not None:
            configure(app)
        if traced:
            tracer.instrument(app, on_trace=traces.append, store=False)
        try:
            async with lifespan(app), client(app) as http:
                for request in spec.requests:
                    before = len(traces)
                    answers = await send(
                        http,
                        request.method,
                        request.path,
                        headers=dict(request.headers),
                        json=request.json,
                        data=None if request.data is None else dict(request.data),
                        concurrency=request.concurrency,
                    )
                    collected = None if collect is None else collect()
                    exchanges.append(
                        Exchange(spec.name, request, answers, traces[before:], collected)
                    )
        finally:
            if traced:
                tracer.uninstrument(app)
    return exchanges


def drive_corpus(
    *,
    traced: bool,
    apps: tuple[CorpusApp, ...] = APPS,
    configure: Configure | None = None,
    collect: Collect | None = None,
) -> list[Exchange]:
    """Run every app (fresh, with its lifespan) and send it its requests, in order.

    ``traced``: instrument each app (``store=False``) and keep its traces.
    ``configure(app)`` runs on each fresh app first; ``collect()`` runs after
    each request and its result is kept on the :class:`Exchange`.
    """

    async def main() -> list[Exchange]:
        exchanges: list[Exchange] = []
        for spec in apps:
            exchanges += await _drive(spec, traced=traced, configure=configure, collect=collect)
        return exchanges

    return anyio.run(main)


def _trace_id(answer: Answer) -> str | None:
    return next((value for name, value in answer.headers if name == "x-trace-id"), None)


def record_corpus(apps: tuple[CorpusApp, ...] = APPS) -> list[CorpusTrace]:
    """Every request of every app, traced: one :class:`CorpusTrace` per response."""
    recorded: list[CorpusTrace] = []
    for exchange in drive_corpus(traced=True, apps=apps):
        by_id = {trace.trace_id: trace for trace in exchange.traces}
        if len(exchange.traces) != len(exchange.answers):
            raise AssertionError(
                f"{exchange.app}:{exchange.request.label}: {len(exchange.answers)} responses, "
                f"{len(exchange.traces)} traces"
            )
        for position, answer in enumerate(exchange.answers):
            trace = by_id.get(_trace_id(answer) or "", exchange.traces[position])
            request = exchange.request
            recorded.append(
                CorpusTrace(
                    exchange.app,
                    request,
                    request.status,
                    request.route,
                    request.clean,
                    trace,
                    answer,
                )
            )
    return recorded
