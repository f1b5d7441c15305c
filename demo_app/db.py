"""Database engine, per-request sessions and the app lifespan that owns them.

There is no module-level engine: each app's lifespan creates its own and puts
it on ``app.state``, so every ``create_app()`` gets a fresh, isolated database.
"""

import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

from .config import Settings
from .models import Base
from .seed import seed_demo_data

SessionMaker = async_sessionmaker[AsyncSession]

#: throwaway PostgreSQL schemas are named this plus random hex (one left behind by a
#: killed process can be found, and dropped, by the prefix)
THROWAWAY_SCHEMA_PREFIX = "trace_request_demo_"


@dataclass(frozen=True)
class Database:
    """Where one app's data lives: the URL it connects to and what to remove at shutdown."""

    url: str
    #: the PostgreSQL schema every connection works in (``search_path``); None on SQLite
    schema: str | None = None
    #: drop ``schema`` at shutdown (a throwaway one)
    drop_schema: bool = False
    #: remove this directory at shutdown (a throwaway SQLite file's)
    scratch: Path | None = None

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql`` (SQLAlchemy's backend name)."""
        return make_url(self.url).get_backend_name()


def _quoted(schema: str) -> str:
    """A PostgreSQL identifier, quoted (any name is safe in SQL and in ``search_path``)."""
    return '"' + schema.replace('"', '""') + '"'


def _search_path(url: URL, schema: str) -> dict[str, Any]:
    """Connect arguments that make ``schema`` the only schema a connection sees.

    asyncpg sends it with the start-up packet (no extra round trip); libpq-based
    drivers take it as ``options``.
    """
    quoted = _quoted(schema)
    if url.get_driver_name() == "asyncpg":
        return {"server_settings": {"search_path": quoted}}
    return {"options": f"-c search_path={quoted}"}


def create_engine(database_url: str, *, schema: str | None = None, **kwargs: Any) -> AsyncEngine:
    """Create an async engine with a real connection pool.

    SQLite serialises writers with its own locks; ``timeout`` lets a writer
    wait for one instead of failing at once under concurrent requests. On
    PostgreSQL, ``schema`` becomes every connection's ``search_path``.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
    if schema is not None:
        return create_async_engine(url, connect_args=_search_path(url, schema), **kwargs)
    return create_async_engine(url, **kwargs)


def resolve_database(settings: Settings) -> Database:
    """The database one app uses: throwaway unless the settings name a persistent one.

    An in-memory SQLite database exists only inside one connection, so every
    session would have to share it, and concurrent requests would interleave
    their transactions on it: the in-memory default becomes a private temporary
    file instead. On PostgreSQL each app gets a schema of its own, so apps on the
    same database (tests, several CLI runs) never see each other's rows.
    """
    url = make_url(settings.database_url)
    backend = url.get_backend_name()
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        directory = Path(tempfile.mkdtemp(prefix="trace-request-demo-"))
        return Database(f"sqlite+aiosqlite:///{directory / 'demo.db'}", scratch=directory)
    if backend == "postgresql":
        if settings.database_schema:
            return Database(settings.database_url, schema=settings.database_schema)
        schema = THROWAWAY_SCHEMA_PREFIX + secrets.token_hex(6)
        return Database(settings.database_url, schema=schema, drop_schema=True)
    return Database(settings.database_url)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Create the engine, schema and seed data on startup; dispose of the engine on shutdown."""
    settings: Settings = app.state.settings
    database = resolve_database(settings)
    engine = create_engine(database.url, schema=database.schema)
    created = False
    try:
        async with engine.begin() as connection:
            if database.schema is not None:
                schema = _quoted(database.schema)
                await connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
                created = database.drop_schema
            await connection.run_sync(Base.metadata.create_all)
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        await seed_demo_data(sessionmaker)
        app.state.database = database
        app.state.engine = engine
        app.state.sessionmaker = sessionmaker
        yield
    finally:
        try:
            if created and database.schema is not None:
                async with engine.begin() as connection:
                    schema = _quoted(database.schema)
                    await connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        finally:
            await engine.dispose()
            if database.scratch is not None:
                shutil.rmtree(database.scratch, ignore_errors=True)


def create_pool_of_one(app: FastAPI) -> AsyncEngine:
    """A throwaway engine on the app's database whose pool holds a single connection.

    For the pool-exhaustion example. On SQLite it opens a private in-memory
    database (the example only runs ``SELECT 1``); on PostgreSQL the app's own.
    """
    database: Database = app.state.database
    pool_of_one: dict[str, Any] = {
        "poolclass": AsyncAdaptedQueuePool,
        "pool_size": 1,
        "max_overflow": 0,
    }
    if database.backend == "sqlite":
        return create_async_engine("sqlite+aiosqlite://", **pool_of_one)
    return create_engine(database.url, schema=database.schema, **pool_of_one)


def get_sessionmaker(request: Request) -> SessionMaker:
    """The session factory the lifespan stored, for work that outlives the request."""
    sessionmaker: SessionMaker = request.app.state.sessionmaker
    return sessionmaker


async def get_db(
    sessionmaker: Annotated[SessionMaker, Depends(get_sessionmaker)],
) -> AsyncIterator[AsyncSession]:
    """Yield one session per request: commit if the handler succeeded, roll back if it raised.

    Handlers that write still commit themselves, because (FastAPI >= 0.118) the
    code after ``yield`` runs only once the response has been sent.
    """
    session = sessionmaker()
    try:
        yield session
        await session.commit()
    except Exception:
        await session.rollback()
        raise
    finally:
        await session.close()


DbSession = Annotated[AsyncSession, Depends(get_db)]
