"""Step 4: each dependency as its own span, nested as the Depends graph."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, HTTPException

from tests.tracer.helpers import (
    assert_well_formed,
    exception_event,
    find,
    names,
    parent_of,
    request,
)

pytestmark = pytest.mark.anyio

calls: list[str] = []


async def get_settings() -> dict[str, str]:
    calls.append("settings")
    return {"db": "x"}


async def get_db(settings: Annotated[dict[str, str], Depends(get_settings)]) -> AsyncIterator[str]:
    calls.append("db open")
    try:
        yield "session"
    finally:
        calls.append("db close")


def get_sync_resource() -> Iterator[str]:
    yield "resource"


def get_user(
    db: Annotated[str, Depends(get_db)], settings: Annotated[dict[str, str], Depends(get_settings)]
) -> str:
    calls.append("user")
    return "ada"


async def require_token(token: str | None = None) -> str:
    if token != "good":
        raise HTTPException(401, "no token")
    return token


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/me")
    async def me(
        user: Annotated[str, Depends(get_user)],
        resource: Annotated[str, Depends(get_sync_resource)],
    ) -> dict[str, str]:
        return {"user": user, "resource": resource}

    @app.get("/secret")
    async def secret(token: Annotated[str, Depends(require_token)]) -> dict[str, str]:
        return {"token": token}

    return app


async def test_graph_is_nested_with_kinds_and_cache_hits() -> None:
    calls.clear()
    response, trace = await request(make_app(), "GET", "/me")
    assert response.json() == {"user": "ada", "resource": "resource"}
    assert_well_formed(trace)
    # the cache still works: settings ran once, although two dependencies ask for it
    assert calls.count("settings") == 1
    solve = find(trace, "solve_dependencies")
    user = find(trace, "get_user")
    db = find(trace, "get_db")
    assert parent_of(trace, user) is solve
    assert parent_of(trace, db) is user
    assert user.attributes["dependency.kind"] == "sync"
    assert user.attributes["threadpool.wait_ns"] >= 0
    assert db.attributes["dependency.kind"] == "async_generator"
    assert find(trace, "get_sync_resource").attributes["dependency.kind"] == "generator"
    settings = sorted(
        (s for s in trace.spans if s.name == "get_settings"), key=lambda s: s.start_ns
    )
    assert [s.attributes.get("dependency.cached", False) for s in settings] == [False, True]
    assert settings[0].attributes["dependency.kind"] == "async"
    assert parent_of(trace, settings[0]) is db
    # every dependency ends before the handler starts
    handler = find(trace, "me")
    assert all(s.end_ns <= handler.start_ns for s in (solve, user, db))


async def test_yield_teardown_is_recorded_where_it_runs() -> None:
    calls.clear()
    _, trace = await request(make_app(), "GET", "/me")
    teardown = find(trace, "get_db teardown")
    assert teardown.step == 4
    assert teardown.attributes["dependency.teardown"] is True
    assert teardown.attributes["dependency.name"] == "get_db"
    assert parent_of(trace, teardown).name == "route /me"  # where it runs
    assert teardown.start_ns >= find(trace, "me").end_ns
    assert calls[-1] == "db close"


async def test_http_exception_from_a_dependency_is_attributed_to_it() -> None:
    response, trace = await request(make_app(), "GET", "/secret")
    assert response.status_code == 401
    dep = find(trace, "require_token")
    assert dep.status == "error"
    assert exception_event(dep).attributes["exception.type"] == "HTTPException"
    assert find(trace, "solve_dependencies").status == "error"
    assert "secret" not in names(trace, "handler")
    assert trace.root.attributes["http.response.status_code"] == 401


async def test_dependency_overrides_still_apply_and_are_traced() -> None:
    app = make_app()

    async def fake_token() -> str:
        return "override"

    app.dependency_overrides[require_token] = fake_token
    response, trace = await request(app, "GET", "/secret")
    assert response.json() == {"token": "override"}
    assert find(trace, "fake_token").phase == "dependency"
    assert "require_token" not in names(trace)


async def test_dependencies_run_exactly_once_per_request() -> None:
    calls.clear()
    await request(make_app(), "GET", "/me")
    assert calls == ["settings", "db open", "user", "db close"]
