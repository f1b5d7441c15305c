"""Route templates as FastAPI resolves them, mounts as what they are, sends nested (issue 12).

``http.route`` (and the root span's name) is the full template: every
``include_router(prefix=…)`` (FastAPI 0.137+ no longer copies routes at
include time), the mount path of a mounted app, nothing of the ``Host``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import Host

from tests.tracer.helpers import assert_well_formed, find, names, parent_of, request

pytestmark = pytest.mark.anyio


def prefixed_app() -> FastAPI:
    teams = APIRouter()

    @teams.get("/{team_id}")
    async def read_team(org_id: int, team_id: int) -> dict[str, int]:
        return {"org": org_id, "team": team_id}

    orgs = APIRouter()

    @orgs.get("/{org_id}")
    async def read_org(org_id: int) -> dict[str, int]:
        return {"org": org_id}

    orgs.include_router(teams, prefix="/{org_id}/teams")
    api = APIRouter()
    api.include_router(orgs, prefix="/orgs")
    app = FastAPI()
    app.include_router(api, prefix="/api/v1")
    return app


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v1/orgs/3", "/api/v1/orgs/{org_id}"),
        ("/api/v1/orgs/3/teams/4", "/api/v1/orgs/{org_id}/teams/{team_id}"),
    ],
)
async def test_include_router_prefixes_are_part_of_the_template(path: str, template: str) -> None:
    response, trace = await request(prefixed_app(), "GET", path)
    assert response.status_code == 200
    assert trace.root.attributes["http.route"] == template
    assert trace.root.name == f"GET {template}"
    assert find(trace, f"route {template}").attributes["http.route"] == template


def static_app(tmp_path: Path) -> FastAPI:
    (tmp_path / "hello.txt").write_text("hello\n")
    sub = FastAPI()

    @sub.get("/items/{item_id}")
    async def sub_item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    app = FastAPI()
    app.mount("/static", StaticFiles(directory=tmp_path), name="static")
    app.mount("/admin", sub)
    return app


async def test_a_static_files_mount_is_recorded_as_the_mounted_app(tmp_path: Path) -> None:
    response, trace = await request(static_app(tmp_path), "GET", "/static/hello.txt")
    assert response.status_code == 200
    assert trace.root.attributes["http.route"] == "/static/{path}"
    assert trace.root.name == "GET /static/{path}"
    mount = find(trace, "StaticFiles /static")
    assert mount.attributes["mount.path"] == "/static"
    assert mount.attributes["mount.app"] == "StaticFiles"
    assert "routing.status" not in find(trace, "router").attributes  # not "no route"
    file_io = [s for s in trace.spans if s.name.startswith("StaticFiles: ")]
    assert "StaticFiles: lookup_path" in [s.name for s in file_io]
    assert all(parent_of(trace, s) is mount for s in file_io)
    assert not [n for n in names(trace) if n.startswith("threadpool ")]
    assert_well_formed(trace)


async def test_a_mounted_sub_app_route_carries_the_mount_path(tmp_path: Path) -> None:
    response, trace = await request(static_app(tmp_path), "GET", "/admin/items/2")
    assert response.status_code == 200
    assert trace.root.attributes["http.route"] == "/admin/items/{item_id}"
    route = find(trace, "route /admin/items/{item_id}")
    assert parent_of(trace, route).name == "FastAPI /admin"


async def test_host_routing_adds_nothing_to_the_path_template() -> None:
    api = APIRouter()

    @api.get("/users/{user_id}")
    async def read_user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    inner = FastAPI()
    inner.include_router(api, prefix="/v1")
    app = FastAPI()
    app.router.routes.append(Host("api.example.com", app=inner))
    response, trace = await request(app, "GET", "/v1/users/1", headers={"host": "api.example.com"})
    assert response.status_code == 200
    assert trace.root.attributes["http.route"] == "/v1/users/{user_id}"


async def test_sends_nest_under_the_span_that_awaited_them() -> None:
    """The route awaits ``send``: its own time must not also run during the send."""
    response, trace = await request(prefixed_app(), "GET", "/api/v1/orgs/3")
    assert response.status_code == 200
    route = find(trace, "route /api/v1/orgs/{org_id}")
    for name in ("send http.response.start", "send http.response.body"):
        assert parent_of(trace, find(trace, name)) is route
    assert_well_formed(trace)


async def test_a_static_file_request_is_not_mostly_routing(tmp_path: Path) -> None:
    _response, trace = await request(static_app(tmp_path), "GET", "/static/hello.txt")
    routing = [s for s in trace.spans if s.phase == "routing"]
    routing_ns = sum(s.end_ns - s.start_ns for s in routing if s.name != "router")
    assert routing_ns < (trace.root.end_ns - trace.root.start_ns) / 2
