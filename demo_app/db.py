"""Database engine, per-request sessions and the app lifespan that owns them.

There is no module-level engine: each app's lifespan creates its own and puts
it on ``app.state``, so every ``create_app()`` gets a fresh, isolated database.
"""

import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .config import Settings
from .models import Base
from .seed import seed_demo_data

SessionMaker = async_sessionmaker[AsyncSession]


def create_engine(database_url: str) -> AsyncEngine:
    """Create an async engine with a real connection pool.

    SQLite serialises writers with its own locks; ``timeout`` lets a writer
    wait for one instead of failing at once under concurrent requests.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return create_async_engine(url, connect_args={"timeout": 30})
    return create_async_engine(url)


def _throwaway_url(database_url: str) -> tuple[str, Path | None]:
    """The in-memory default becomes a temporary file, removed at shutdown.

    An in-memory SQLite database exists only inside one connection, so every
    session would have to share it, and concurrent requests would interleave
    their transactions on it. A private file gives each session its own.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        directory = Path(tempfile.mkdtemp(prefix="trace-request-demo-"))
        return f"sqlite+aiosqlite:///{directory / 'demo.db'}", directory
    return database_url, None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Create the engine, schema and seed data on startup; dispose of the engine on shutdown."""
    settings: Settings = app.state.settings
    database_url, scratch = _throwaway_url(settings.database_url)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        await seed_demo_data(sessionmaker)
        app.state.engine = engine
        app.state.sessionmaker = sessionmaker
        yield
    finally:
        await engine.dispose()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


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
