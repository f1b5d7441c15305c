"""The db phase from SQLAlchemy events: sync and async engines, statements, commit, rollback."""

from collections.abc import AsyncIterator
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Request
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

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
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    sync_engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    app.state.engine = engine
    with sync_engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))

    async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session

    @app.post("/async")
    async def write_async(session: Annotated[AsyncSession, Depends(get_session)]) -> dict[str, int]:
        await session.execute(text("CREATE TABLE IF NOT EXISTS u (id INTEGER PRIMARY KEY, n TEXT)"))
        await session.execute(text("INSERT INTO u (n) VALUES (:n)"), {"n": "top-secret-value"})
        rows = (await session.execute(text("SELECT id FROM u"))).all()
        await session.commit()
        return {"rows": len(rows)}

    @app.post("/sync")
    def write_sync() -> dict[str, str]:
        with sync_engine.begin() as conn:
            conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        return {"ok": "yes"}

    @app.post("/conflict")
    def conflict() -> dict[str, str]:
        try:
            with sync_engine.begin() as conn:
                conn.execute(text("INSERT INTO t (name) VALUES ('dup')"))
                conn.execute(text("INSERT INTO t (name) VALUES ('dup')"))
        except IntegrityError:
            return {"conflict": "yes"}
        return {"conflict": "no"}

    return app


async def test_async_engine_statements_commit_and_no_parameters() -> None:
    app = make_app()
    response, trace = await request(app, "POST", "/async")
    assert response.json() == {"rows": 1}
    assert_well_formed(trace)
    db = names(trace, "db")
    assert "pool checkout" in db
    assert "INSERT u" in db
    assert "SELECT u" in db
    assert "COMMIT" in db
    insert = find(trace, "INSERT u")
    assert insert.attributes["db.system"] == "sqlite"
    assert insert.attributes["db.operation"] == "INSERT"
    assert insert.attributes["db.rowcount"] == 1
    assert insert.step == 6
    assert parent_of(trace, insert).name == "write_async"
    assert "top-secret-value" not in trace.to_json()
    await app.state.engine.dispose()


async def test_sync_engine_in_the_threadpool_nests_under_the_handler() -> None:
    _, trace = await request(make_app(), "POST", "/sync")
    insert = find(trace, "INSERT t")
    assert parent_of(trace, insert).name == "write_sync"
    assert "COMMIT" in names(trace, "db")


async def test_statement_error_and_rollback() -> None:
    response, trace = await request(make_app(), "POST", "/conflict")
    assert response.json() == {"conflict": "yes"}
    inserts = sorted((s for s in trace.spans if s.name == "INSERT t"), key=lambda s: s.start_ns)
    assert [s.status for s in inserts] == ["ok", "error"]
    assert exception_event(inserts[1]).attributes["exception.type"] == "IntegrityError"
    assert find(trace, "ROLLBACK").phase == "db"
