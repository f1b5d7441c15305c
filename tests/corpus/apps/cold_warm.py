"""First request vs warm requests on the same endpoint of a freshly built app.

The first request pays every first-call cost (the middleware stack build,
FastAPI's endpoint inspection, SQLAlchemy's statement compilation and its
first pool connection, the aiosqlite thread start); the next ones do not. The
endpoint is the demo's ``GET /search?q=…`` shape: an async session from a yield
dependency, a ``LIKE`` query, a ``response_model`` list.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import String, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


NAMES = ("pen", "paper", "pencil", "stapler", "paperclip")


def create_app(workdir: Path) -> FastAPI:
    # a file database: the pool opens its first connection on the first request
    engine = create_async_engine(f"sqlite+aiosqlite:///{workdir / 'cold_warm.db'}")
    session_factory = async_sessionmaker(engine, expire_on_commit=False)

    async def get_session() -> AsyncIterator[AsyncSession]:
        async with session_factory() as session:
            yield session

    router = APIRouter()

    @router.get("/search", response_model=list[ProductOut])
    async def search(
        session: Annotated[AsyncSession, Depends(get_session)],
        q: Annotated[str, Query(min_length=1)],
    ) -> list[Product]:
        statement = select(Product).where(Product.name.like(f"%{q}%")).order_by(Product.id)
        return list((await session.execute(statement)).scalars())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
            await conn.execute(
                insert(Product),
                [{"id": n, "name": name} for n, name in enumerate(NAMES, start=1)],
            )
        await engine.dispose()  # the first request opens a new connection
        yield
        await engine.dispose()

    app = FastAPI(title="cold-warm", lifespan=lifespan)
    app.include_router(router)
    return app
