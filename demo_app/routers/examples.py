"""Teaching examples: each endpoint shows one behaviour a request trace makes visible.

Some are deliberately bad (N+1 queries, blocking the event loop, an unhandled
error); each bad one says so and names its fix. The ``/examples/*`` ones each
show one problem ``trace-request``'s diagnostics name: a leaky response, a
failing background task, slow serialisation, an exhausted pool, a starved
threadpool.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

import anyio.to_thread
from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    HTTPException,
    Path,
    Query,
    Request,
    status,
)
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, field_validator
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import selectinload

from ..db import DbSession, create_pool_of_one
from ..models import Item, User
from ..schemas import ItemSummary, PrimeReport, SleepResult, UserWithItems

router = APIRouter(tags=["examples"])

SLEEP_SECONDS = 0.05
STREAM_CHUNKS = 5


@router.get("/sync/report", response_model=PrimeReport)
def sync_report(limit: Annotated[int, Query(ge=2, le=1_000_000)] = 50_000) -> PrimeReport:
    """CPU-bound work in a plain ``def``: FastAPI runs it in the threadpool, off the event loop."""
    sieve = bytearray([1]) * (limit + 1)
    sieve[0:2] = b"\x00\x00"
    for n in range(2, int(limit**0.5) + 1):
        if sieve[n]:
            sieve[n * n :: n] = bytes(len(range(n * n, limit + 1, n)))
    return PrimeReport(limit=limit, prime_count=sum(sieve), largest_prime=sieve.rindex(1))


@router.get("/stream")
async def stream() -> StreamingResponse:
    """A streaming body: the handler returns at once, the chunks are produced as they are sent."""

    async def chunks() -> AsyncIterator[bytes]:
        for n in range(STREAM_CHUNKS):
            await asyncio.sleep(0.001)
            yield f"chunk {n}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


@router.get("/users-with-items", response_model=list[UserWithItems])
async def users_with_items_n_plus_one(db: DbSession) -> list[UserWithItems]:
    """BAD EXAMPLE (N+1 queries): one query for the users, then one more per user.

    The query count grows with the number of users. The fix is
    ``/users-with-items/eager``: load the items with the users up front.
    """
    users = (await db.scalars(select(User).order_by(User.id))).all()
    result = []
    for user in users:
        items = await db.scalars(select(Item).where(Item.owner_id == user.id).order_by(Item.id))
        result.append(
            UserWithItems(
                id=user.id,
                email=user.email,
                items=[ItemSummary.model_validate(item) for item in items],
            )
        )
    return result


@router.get("/users-with-items/eager", response_model=list[UserWithItems])
async def users_with_items_eager(db: DbSession) -> list[UserWithItems]:
    """The fix for the N+1 example: ``selectinload`` fetches all items in one extra query."""
    users = await db.scalars(select(User).options(selectinload(User.items)).order_by(User.id))
    return [
        UserWithItems(
            id=user.id,
            email=user.email,
            items=[ItemSummary.model_validate(item) for item in user.items],
        )
        for user in users
    ]


@router.get("/slow/blocking", response_model=SleepResult)
async def slow_blocking() -> SleepResult:
    """BAD EXAMPLE: ``time.sleep`` inside ``async def`` blocks the event loop.

    While it sleeps, no other request on this worker makes progress. Use
    ``await asyncio.sleep`` (see ``/slow/async``), or a plain ``def`` endpoint.
    """
    time.sleep(SLEEP_SECONDS)  # noqa: ASYNC251 - the point of this example
    return SleepResult(slept_ms=int(SLEEP_SECONDS * 1000), blocked_event_loop=True)


@router.get("/slow/async", response_model=SleepResult)
async def slow_async() -> SleepResult:
    """The right way to wait in ``async def``: other requests run during the sleep."""
    await asyncio.sleep(SLEEP_SECONDS)
    return SleepResult(slept_ms=int(SLEEP_SECONDS * 1000), blocked_event_loop=False)


@router.get("/boom")
async def boom() -> None:
    """BAD EXAMPLE: an unhandled exception, which ServerErrorMiddleware turns into a bare 500."""
    raise RuntimeError("boom: an unhandled error in the endpoint")


# -- teaching endpoints for `trace-request` diagnostics -----------------------------------
# Each one makes a single problem visible in one request's trace; all are BAD EXAMPLES,
# so they stay out of the OpenAPI schema: they are lessons, not part of the API.

teaching = APIRouter(prefix="/examples", tags=["teaching"], include_in_schema=False)

SLOW_ROWS = 250
SLOW_ROW_SECONDS = 0.001
POOL_HOLD_SECONDS = 0.03
BUSY_THREAD_SECONDS = 0.03


class PriceRow(BaseModel):
    """A row of the slow-serialisation example: its validator does slow work for every row."""

    sku: int
    price: str

    @field_validator("price")
    @classmethod
    def _look_up_rate(cls, value: str) -> str:
        time.sleep(SLOW_ROW_SECONDS)  # stands in for a per-row exchange-rate lookup
        return value


class Queued(BaseModel):
    """Answer of the failing-task example: the work was accepted for later."""

    queued: bool


class PoolReport(BaseModel):
    """Answer of the pool example: the query's result once a connection was free."""

    value: int


@teaching.get("/leaky-user/{user_id}", response_model=None)
async def leaky_user(user_id: Annotated[int, Path(ge=1)], db: DbSession) -> User:
    """BAD EXAMPLE (no response_model): the ORM user goes out as is, password hash included.

    Compare ``GET /users/{user_id}``, whose ``response_model=UserRead`` filters the fields.
    """
    user = await db.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="user not found")
    return user


async def send_receipt(recipient: str) -> None:
    """Pretend to e-mail a receipt; the mail server is down, so it always fails."""
    raise ConnectionError(f"mail server refused the receipt for {recipient}")


@teaching.post("/failing-task", response_model=Queued, status_code=status.HTTP_202_ACCEPTED)
async def failing_task(background_tasks: BackgroundTasks) -> Queued:
    """BAD EXAMPLE: the client gets 202, then the background task raises and nobody is told.

    Catch and log (or retry) inside the task, or hand the work to a real job queue.
    """
    background_tasks.add_task(send_receipt, "customer@example.com")
    return Queued(queued=True)


@teaching.get("/slow-serialization", response_model=list[PriceRow])
def slow_serialization() -> list[dict[str, object]]:
    """BAD EXAMPLE: the handler is quick, but response_model validation dominates the request.

    ``PriceRow``'s validator runs for each of the 250 rows; do such lookups once, up front.
    """
    return [{"sku": n, "price": f"{n}.00"} for n in range(SLOW_ROWS)]


async def _hold_connection(engine: AsyncEngine, ready: asyncio.Event) -> None:
    async with engine.connect():
        ready.set()
        await asyncio.sleep(POOL_HOLD_SECONDS)


@teaching.get("/pool-exhausted", response_model=PoolReport)
async def pool_exhausted(request: Request) -> PoolReport:
    """BAD EXAMPLE (pool exhaustion): the query waits for the pool's only connection.

    A throwaway engine (on the app's database) has a pool of one; a task standing in
    for another request holds it for 30 ms. Size the pool to the concurrency and
    release connections early.
    """
    engine = create_pool_of_one(request.app)
    try:
        ready = asyncio.Event()
        holder = asyncio.create_task(_hold_connection(engine, ready))
        await ready.wait()
        async with engine.connect() as connection:
            value = await connection.scalar(text("SELECT 1"))
        await holder
    finally:
        await engine.dispose()
    return PoolReport(value=int(value or 0))


async def occupy_worker_threads() -> None:
    """Stand-in for a burst of other requests: every worker thread is taken for 30 ms."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    holders = [object() for _ in range(int(limiter.total_tokens))]
    for holder in holders:
        await limiter.acquire_on_behalf_of(holder)
    asyncio.get_running_loop().call_later(BUSY_THREAD_SECONDS, _release, limiter, holders)


def _release(limiter: anyio.CapacityLimiter, holders: list[object]) -> None:
    for holder in holders:
        limiter.release_on_behalf_of(holder)


@teaching.get(
    "/threadpool-starved",
    response_model=SleepResult,
    dependencies=[Depends(occupy_worker_threads)],
)
def threadpool_starved() -> SleepResult:
    """BAD EXAMPLE (threadpool starvation): a ``def`` endpoint queues for a worker thread.

    Every worker thread is taken, as if by other requests' blocking calls, so this
    handler waits before it starts. Keep blocking calls short, or make them async.
    """
    return SleepResult(slept_ms=0, blocked_event_loop=False)


router.include_router(teaching)
