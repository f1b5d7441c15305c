"""Each demo app has a database of its own, on PostgreSQL as on SQLite.

SQLite: a temporary file per app. PostgreSQL: a schema per app (every connection's
``search_path``), dropped at shutdown, unless ``DEMO_DATABASE_SCHEMA`` names one to keep.
"""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.db.demo import SIGN_UP, Database, Demo, running_demo
from tracer.demo_app.db import THROWAWAY_SCHEMA_PREFIX

pytestmark = pytest.mark.anyio

SEEDED = ["admin@example.com", "grace@example.com", "alan@example.com"]


async def emails(demo: Demo) -> list[str]:
    response, _ = await demo.send("GET", "/users")
    return [u["email"] for u in response.json()]


async def test_apps_on_one_database_never_see_each_others_rows(database: Database) -> None:
    async with running_demo(database) as first, running_demo(database) as second:
        response, _ = await first.send("POST", "/users", json=SIGN_UP)
        assert response.status_code == 201
        assert await emails(first) == [*SEEDED, SIGN_UP["email"]]
        assert await emails(second) == SEEDED  # seeded on its own, ids from 1
        response, _ = await second.send("POST", "/users", json=SIGN_UP)
        assert response.status_code == 201  # not taken here
        assert response.json()["id"] == 4
    async with running_demo(database) as third:
        assert await emails(third) == SEEDED  # nothing left behind


async def schemas(url: str, like: str) -> list[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            found = await connection.scalars(
                text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :like ORDER BY 1"),
                {"like": like},
            )
            return list(found)
    finally:
        await engine.dispose()


async def test_postgres_app_gets_a_throwaway_schema(postgres: Database) -> None:
    async with running_demo(postgres) as demo:
        schema = demo.app.state.database.schema
        assert schema.startswith(THROWAWAY_SCHEMA_PREFIX)
        assert await schemas(postgres.url, schema) == [schema]
        assert await emails(demo) == SEEDED
    assert await schemas(postgres.url, schema) == []  # dropped at shutdown


async def test_postgres_named_schema_persists_and_is_seeded_once(postgres: Database) -> None:
    schema = f"trace_request_keep_{secrets.token_hex(4)}"
    try:
        async with running_demo(postgres, database_schema=schema) as demo:
            response, _ = await demo.send("POST", "/users", json=SIGN_UP)
            assert response.status_code == 201
        async with running_demo(postgres, database_schema=schema) as demo:
            assert await emails(demo) == [*SEEDED, SIGN_UP["email"]]
        assert await schemas(postgres.url, schema) == [schema]
    finally:
        engine = create_async_engine(postgres.url)
        async with engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()
