"""Routers included with prefixes, nested routers, path parameters (no database).

The shape of most real apps: ``api_router`` collects feature routers, each
included with ``prefix=…``, and the app includes ``api_router`` under
``/api/v1``; one feature router nests another (``/orgs/{org_id}/teams``); one
router declares its prefix on ``APIRouter(prefix=…)`` instead (the demo's form).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel, Field


class UserIn(BaseModel):
    name: str = Field(min_length=1)
    email: str


class UserOut(BaseModel):
    id: int
    name: str


def create_app(workdir: Path) -> FastAPI:
    users_db: dict[int, UserOut] = {1: UserOut(id=1, name="ada"), 2: UserOut(id=2, name="bob")}

    users = APIRouter()

    @users.get("/", response_model=list[UserOut])
    async def list_users() -> list[UserOut]:
        return [users_db[key] for key in sorted(users_db)]

    @users.get("/{user_id}", response_model=UserOut)
    async def read_user(user_id: int) -> UserOut:
        if user_id not in users_db:
            raise HTTPException(status_code=404, detail="User not found")
        return users_db[user_id]

    @users.post("/", response_model=UserOut, status_code=201)
    def create_user(body: UserIn) -> UserOut:
        return UserOut(id=3, name=body.name)

    teams = APIRouter()

    @teams.get("/{team_id}")
    async def read_team(org_id: int, team_id: int) -> dict[str, int]:
        return {"org": org_id, "team": team_id}

    orgs = APIRouter()

    @orgs.get("/{org_id}")
    async def read_org(org_id: int) -> dict[str, int]:
        return {"org": org_id}

    orgs.include_router(teams, prefix="/{org_id}/teams", tags=["teams"])

    items = APIRouter(prefix="/items", tags=["items"])  # prefix declared on the router

    @items.get("/{item_id}")
    def read_item(item_id: int, q: str | None = None) -> dict[str, object]:
        return {"item": item_id, "q": q}

    api_router = APIRouter()
    api_router.include_router(users, prefix="/users", tags=["users"])
    api_router.include_router(orgs, prefix="/orgs", tags=["orgs"])
    api_router.include_router(items)

    v2 = APIRouter(prefix="/api/v2")

    @v2.get("/users/{user_id}")
    async def read_user_v2(user_id: int) -> dict[str, int]:
        return {"id": user_id, "version": 2}

    app = FastAPI(title="routers")
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(v2)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
