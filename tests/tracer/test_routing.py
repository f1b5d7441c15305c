"""Step 3: which route matched, how long matching took, 404/405, routers and mounts."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException

from tests.tracer.helpers import (
    assert_well_formed,
    exception_event,
    find,
    names,
    parent_of,
    request,
)

pytestmark = pytest.mark.anyio


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/users/{user_id}")
    async def read_user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    def check_version(x_api_version: str = Header("1")) -> None:
        if x_api_version != "1":
            raise HTTPException(400, "bad version")

    items = APIRouter(prefix="/items", tags=["items"], dependencies=[Depends(check_version)])

    @items.get("/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    app.include_router(items)
    return app


async def test_matched_route_template_and_match_time() -> None:
    response, trace = await request(make_app(), "GET", "/users/7")
    assert response.json() == {"id": 7}
    assert_well_formed(trace)
    router = find(trace, "router")
    assert router.step == 3
    assert router.attributes["http.route"] == "/users/{user_id}"
    assert router.attributes["routing.endpoint"] == "read_user"
    match = find(trace, "match")
    assert parent_of(trace, match) is router
    assert match.end_ns <= find(trace, "route /users/{user_id}").start_ns
    assert trace.root.name == "GET /users/{user_id}"
    assert trace.root.attributes["http.route"] == "/users/{user_id}"


async def test_no_route_is_traced_as_a_404_answered_by_the_router() -> None:
    response, trace = await request(make_app(), "GET", "/nowhere")
    assert response.status_code == 404
    router = find(trace, "router")
    assert router.attributes["routing.status"] == 404
    assert find(trace, "match").attributes["routing.status"] == 404
    # FastAPI's router raises HTTPException(404); ExceptionMiddleware builds the response
    assert router.status == "error"
    assert trace.root.attributes["trace_request.response_origin"] == "ExceptionMiddleware"
    assert not [s for s in trace.spans if s.phase in ("handler", "dependency")]
    assert trace.root.name == "GET /nowhere"


async def test_wrong_method_is_a_405() -> None:
    response, trace = await request(make_app(), "DELETE", "/users/1")
    assert response.status_code == 405
    assert trace.root.attributes["http.response.status_code"] == 405
    assert find(trace, "route /users/{user_id}").attributes["routing.status"] == 405
    assert "read_user" not in names(trace)


async def test_included_router_with_router_level_dependency() -> None:
    response, trace = await request(make_app(), "GET", "/items/3")
    assert response.json() == {"item": 3}
    assert trace.root.attributes["http.route"] == "/items/{item_id}"
    dep = find(trace, "check_version")
    assert dep.phase == "dependency"
    assert dep.attributes["dependency.kind"] == "sync"
    header = find(trace, "validate header")
    assert parent_of(trace, header) is dep


async def test_router_level_dependency_raising_stops_before_the_handler() -> None:
    response, trace = await request(make_app(), "GET", "/items/3", headers={"x-api-version": "9"})
    assert response.status_code == 400
    dep = find(trace, "check_version")
    assert dep.status == "error"
    assert exception_event(dep).attributes["exception.type"] == "HTTPException"
    assert "read_item" not in names(trace)


async def test_mounted_sub_app_nests_inside_the_parent_trace() -> None:
    parent = make_app()
    child = FastAPI()

    @child.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    parent.mount("/sub", child)
    response, trace = await request(parent, "GET", "/sub/ping")
    assert response.json() == {"pong": "yes"}
    assert_well_formed(trace)
    handler = find(trace, "ping")
    assert handler.phase == "handler"
    # the sub-app's own middleware layers are traced inside the parent's router
    assert names(trace).count("ServerErrorMiddleware") == 1


async def test_mounted_instrumented_sub_app_does_not_start_a_second_trace() -> None:
    import tracer

    parent = make_app()
    child = tracer.instrument(FastAPI())

    @child.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    parent.mount("/sub", child)
    with tracer.capture(child) as child_traces:
        response, trace = await request(parent, "GET", "/sub/ping")
    assert response.status_code == 200
    assert len(child_traces) == 0
    assert names(trace).count("ServerErrorMiddleware") == 2
    assert find(trace, "ping").phase == "handler"
