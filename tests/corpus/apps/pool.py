"""Concurrent requests sharing a one-connection pool (``pool_size=1, max_overflow=0``).

Each request holds its connection briefly (``await asyncio.sleep(0.01)`` in
``async def``, ``time.sleep(0.01)`` in a ``def`` endpoint on the threadpool);
the others wait in the pool's queue. ``pool_timeout`` is short but far above
five holds, so every request succeeds: waiting for a connection is normal,
not a deadlock.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

POOL = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 2.0}


def create_app(workdir: Path) -> FastAPI:
    path = workdir / "pool.db"
    async_engine = create_async_engine(f"sqlite+aiosqlite:///{path}", **POOL)
    sync_engine = create_engine(
        f"sqlite:///{path}", connect_args={"check_same_thread": False}, **POOL
    )
    async_sessions = async_sessionmaker(async_engine)
    sync_sessions = sessionmaker(sync_engine)

    async def get_async_session() -> AsyncIterator[AsyncSession]:
        async with async_sessions() as session:
            yield session

    def get_sync_session() -> Iterator[Session]:
        with sync_sessions() as session:
            yield session

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with async_engine.begin() as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS counter (n INTEGER)"))
            await conn.execute(text("INSERT INTO counter VALUES (1)"))
        yield
        await async_engine.dispose()
        sync_engine.dispose()

    app = FastAPI(title="pool", lifespan=lifespan)

    @app.get("/hold")
    async def hold(session: Annotated[AsyncSession, Depends(get_async_session)]) -> dict[str, int]:
        value = (await session.execute(text("SELECT n FROM counter"))).scalar_one()
        await asyncio.sleep(0.01)  # still holding the pool's only connection
        return {"n": value}

    @app.get("/hold-sync")
    def hold_sync(session: Annotated[Session, Depends(get_sync_session)]) -> dict[str, int]:
        value = session.execute(text("SELECT n FROM counter")).scalar_one()
        time.sleep(0.01)  # still holding the pool's only connection
        return {"n": value}

    return app
