"""Time no phase hook covers is named where a cheap hook can name it (issue 12).

Each naming span carries ``gap.cause``; first-run-only costs carry
``first_call=True`` and appear only on the run that pays them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import anyio
import anyio.lowlevel
import pytest
from fastapi import Depends, FastAPI, Request
from sqlalchemy import create_engine, text
from sqlalchemy.pool import StaticPool

from tests.tracer.helpers import FASTAPI_VERSION, ancestors, find, names, parent_of, request

pytestmark = pytest.mark.anyio


def one_endpoint_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:  # a fresh function: FastAPI has not inspected it
        return {"ok": True}

    return app


@pytest.mark.skipif(FASTAPI_VERSION < (0, 124), reason="no endpoint inspection before 0.124")
async def test_the_first_call_endpoint_inspection_is_named_once() -> None:
    app = one_endpoint_app()
    _response, first = await request(app, "GET", "/ping")
    span = find(first, "endpoint inspection (first call)")
    assert span.attributes["gap.first_call"] is True
    assert span.attributes["gap.cause"] == "endpoint inspection"
    assert parent_of(first, span).name == "route /ping"
    _response, second = await request(app, "GET", "/ping")
    assert "endpoint inspection (first call)" not in names(second)


async def test_the_anyio_backend_import_is_named_where_it_happens() -> None:
    from anyio._core import _eventloop

    app = FastAPI()

    @app.get("/cold")
    async def cold() -> dict[str, bool]:
        _eventloop.loaded_backends.pop("asyncio", None)  # as before the first cancel scope
        await anyio.lowlevel.checkpoint()
        return {"ok": True}

    _response, trace = await request(app, "GET", "/cold")
    span = find(trace, "anyio backend import (first call)")
    assert span.attributes["gap.first_call"] is True
    assert span.attributes["gap.cause"] == "import on first use"
    assert parent_of(trace, span).name == "cold"
    assert span.phase == "handler"


async def test_sql_compilation_is_named_on_a_cache_miss_only() -> None:
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )  # a fresh engine: an empty statement cache
    app = FastAPI()

    @app.get("/twice")
    def twice() -> list[int]:
        with engine.connect() as conn:
            return [conn.execute(text("SELECT 1")).scalar_one() for _ in range(2)]

    _response, trace = await request(app, "GET", "/twice")
    compiles = [s for s in trace.spans if s.name == "SQL compile (cache miss)"]
    assert len(compiles) == 1
    (span,) = compiles
    assert span.attributes["gap.cause"] == "SQL compilation"
    assert span.phase == "db"
    statements = sorted((s for s in trace.spans if s.name == "SELECT"), key=lambda s: s.start_ns)
    assert span.end_ns <= statements[0].start_ns
    engine.dispose()


async def test_base_http_middleware_receive_is_the_middlewares_own_time() -> None:
    app = FastAPI()

    @app.middleware("http")
    async def audit(request: Request, call_next: Any) -> Any:
        return await call_next(request)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"n": len(await request.body())}

    _response, trace = await request(app, "POST", "/echo", content=b"x" * 100)
    spans = [s for s in trace.spans if s.name == "audit receive"]
    assert spans  # one per body message
    for span in spans:
        assert span.attributes["gap.cause"] == "middleware receive"
        assert span.phase == "middleware"
        assert parent_of(trace, span).name == "read body"
    for server_receive in [s for s in trace.spans if s.name == "receive http.request"]:
        assert parent_of(trace, server_receive) in spans


def get_session() -> Iterator[str]:
    yield "session"


def get_db(session: Annotated[str, Depends(get_session)]) -> Iterator[str]:
    yield session


def current_user(db: Annotated[str, Depends(get_db)]) -> str:
    return "ada"


def superuser(user: Annotated[str, Depends(current_user)]) -> str:
    return user


async def test_a_sync_yield_dependency_has_no_threadpool_pseudo_spans() -> None:
    app = FastAPI()

    @app.get("/admin")
    def admin(user: Annotated[str, Depends(superuser)]) -> dict[str, str]:
        return {"user": user}

    _response, trace = await request(app, "GET", "/admin")
    assert not [n for n in names(trace) if n.startswith("threadpool __")]
    session = find(trace, "get_session")
    assert ancestors(trace, session)[:4] == [
        "get_db",
        "current_user",
        "superuser",
        "solve_dependencies",
    ]
    assert session.attributes["dependency.kind"] == "generator"
    assert "threadpool.wait_ns" in session.attributes
    teardown = find(trace, "get_db teardown")
    assert "teardown.wait_ns" in teardown.attributes
