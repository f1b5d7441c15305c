"""Lessons the demo's own data is too small for: N+1 at scale, a missing index, stale data.

They use a database of their own (in memory, created and filled on first use,
so no other request pays for it), with enough rows for the difference to show
in one request's trace: 200 authors for the N+1 and its fix, 20,000 orders for
the missing index. Each bad example names its fix, and the fix is an endpoint
too. Like ``/examples/*`` in :mod:`.examples`, they stay out of the OpenAPI schema.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import ForeignKey, String, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload
from sqlalchemy.pool import StaticPool

AUTHORS = 200
BOOKS_PER_AUTHOR = 2  # the (0, 1) in _FILL
ORDERS = 20_000
CUSTOMERS = 500
STOCK = 10


class LessonBase(DeclarativeBase):
    """The lessons' own tables, apart from the app's."""


class Author(LessonBase):
    __tablename__ = "lesson_authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    books: Mapped[list["Book"]] = relationship(lazy="raise", order_by="Book.id")


class Book(LessonBase):
    __tablename__ = "lesson_books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    author_id: Mapped[int] = mapped_column(ForeignKey("lesson_authors.id"), index=True)


class Order(LessonBase):
    """``customer_email`` has no index (the bad lookup); ``customer_id`` has one (the fix)."""

    __tablename__ = "lesson_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_email: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[int] = mapped_column(index=True)
    total_cents: Mapped[int]


class Stock(LessonBase):
    __tablename__ = "lesson_stock"

    id: Mapped[int] = mapped_column(primary_key=True)
    quantity: Mapped[int]


@asynccontextmanager
async def lessons_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Nothing at startup (the database is made on first use); dispose of it at shutdown."""
    yield
    engine = getattr(app.state, "lesson_engine", None)
    if engine is not None:
        await engine.dispose()
        del app.state.lesson_engine


router = APIRouter(
    prefix="/examples", tags=["teaching"], include_in_schema=False, lifespan=lessons_lifespan
)
Sessions = async_sessionmaker[AsyncSession]


#: rows generated inside SQLite (a recursive CTE): 20,000 inserts cost ~10 ms, not ~100
_FILL = (
    "INSERT INTO lesson_authors (id, name) {numbers} SELECT x, 'author ' || x FROM n",
    "INSERT INTO lesson_books (title, author_id) {numbers} "
    "SELECT 'book ' || x || '.' || k.k, x FROM n, (SELECT 0 AS k UNION ALL SELECT 1) AS k",
    "INSERT INTO lesson_orders (customer_email, customer_id, total_cents) {numbers} "
    "SELECT 'customer' || (x % {customers}) || '@example.com', x % {customers}, x FROM n",
)
_NUMBERS = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {count})"


async def _fill(sessionmaker: Sessions) -> None:
    async with sessionmaker() as session:
        for statement, count in zip(_FILL, (AUTHORS, AUTHORS, ORDERS), strict=True):
            numbers = _NUMBERS.format(count=count)
            await session.execute(text(statement.format(numbers=numbers, customers=CUSTOMERS)))
        await session.execute(insert(Stock), [{"id": 1, "quantity": STOCK}])
        await session.commit()


async def lesson_sessions(request: Request) -> Sessions:
    """The lessons' session factory; the first call creates and fills their database."""
    state = request.app.state
    lock = state.__dict__.setdefault("_lesson_lock", asyncio.Lock())
    async with lock:
        if getattr(state, "lesson_engine", None) is None:
            engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
            async with engine.begin() as connection:
                await connection.run_sync(LessonBase.metadata.create_all)
            # as the app's own sessionmaker: objects stay loaded after a commit
            state.lesson_sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
            await _fill(state.lesson_sessionmaker)
            state.lesson_engine = engine
    sessions: Sessions = state.lesson_sessionmaker
    return sessions


async def lesson_db(
    sessions: Annotated[Sessions, Depends(lesson_sessions)],
) -> AsyncIterator[AsyncSession]:
    """One session per request, as ``get_db`` gives the app's routes."""
    async with sessions() as session:
        yield session


LessonDb = Annotated[AsyncSession, Depends(lesson_db)]


class AuthorBooks(BaseModel):
    name: str
    books: list[str]


@router.get("/n-plus-one", response_model=list[AuthorBooks])
async def n_plus_one(db: LessonDb) -> list[AuthorBooks]:
    """BAD EXAMPLE (N+1): one query for 200 authors, then one more per author: 201 in all.

    The fix is ``/examples/n-plus-one/fixed``: the same answer in two queries.
    """
    authors = (await db.scalars(select(Author).order_by(Author.id))).all()
    out = []
    for author in authors:
        books = await db.scalars(select(Book.title).where(Book.author_id == author.id))
        out.append(AuthorBooks(name=author.name, books=list(books)))
    return out


@router.get("/n-plus-one/fixed", response_model=list[AuthorBooks])
async def n_plus_one_fixed(db: LessonDb) -> list[AuthorBooks]:
    """The fix: ``selectinload`` fetches every author's books in one more query."""
    authors = await db.scalars(
        select(Author).options(selectinload(Author.books)).order_by(Author.id)
    )
    return [AuthorBooks(name=a.name, books=[b.title for b in a.books]) for a in authors]


class PlannedLookup(BaseModel):
    """A lookup's result and how SQLite ran it (the plan is a template: no values)."""

    orders: int
    plan: list[str]
    uses_index: bool


async def _planned(db: AsyncSession, where: str, value: Any) -> PlannedLookup:
    query = f"SELECT id, total_cents FROM lesson_orders WHERE {where} = :value"
    rows = (await db.execute(text(query), {"value": value})).all()
    plan = [
        str(row[-1])
        for row in await db.execute(text(f"EXPLAIN QUERY PLAN {query}"), {"value": value})
    ]
    return PlannedLookup(orders=len(rows), plan=plan, uses_index=any("USING" in p for p in plan))


@router.get("/missing-index", response_model=PlannedLookup)
async def missing_index(db: LessonDb) -> PlannedLookup:
    """BAD EXAMPLE (missing index): orders by e-mail, a column with no index.

    The plan says ``SCAN lesson_orders``: all 20,000 rows read for 40. The fix
    (``/examples/missing-index/fixed``) looks up an indexed column: ``SEARCH … USING INDEX``.
    """
    return await _planned(db, "customer_email", "customer42@example.com")


@router.get("/missing-index/fixed", response_model=PlannedLookup)
async def missing_index_fixed(db: LessonDb) -> PlannedLookup:
    """The fix: the same orders by ``customer_id``, which has an index."""
    return await _planned(db, "customer_id", 42)


class StaleRead(BaseModel):
    """What one session saw of a row another session changed meanwhile."""

    first_read: int
    other_session_wrote: int
    same_session_reads: int
    with_populate_existing: int
    stale: bool


@router.get("/stale-data", response_model=StaleRead)
async def stale_data(
    db: LessonDb, sessions: Annotated[Sessions, Depends(lesson_sessions)]
) -> StaleRead:
    """BAD EXAMPLE (stale data): the session's identity map keeps the row it loaded first.

    Another session (standing in for another request) changes the row and
    commits; selecting it again in this session runs the SQL but returns the
    object already in the identity map, unchanged. ``populate_existing`` (or
    ``session.refresh``, or ``expire_on_commit=True``) reads it afresh.
    """
    stock = await db.scalar(select(Stock).where(Stock.id == 1))
    assert stock is not None
    first = stock.quantity
    async with sessions() as other:
        row = await other.scalar(select(Stock).where(Stock.id == 1))
        assert row is not None
        row.quantity -= 1
        await other.commit()
        wrote = row.quantity
    again = await db.scalar(select(Stock).where(Stock.id == 1))
    seen = again.quantity if again is not None else -1
    fresh = await db.scalar(
        select(Stock).where(Stock.id == 1).execution_options(populate_existing=True)
    )
    fixed = fresh.quantity if fresh is not None else -1
    return StaleRead(
        first_read=first,
        other_session_wrote=wrote,
        same_session_reads=seen,
        with_populate_existing=fixed,
        stale=seen != wrote,
    )
