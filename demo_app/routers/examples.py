"""Teaching examples: each endpoint shows one behaviour a request trace makes visible.

Some are deliberately bad (N+1 queries, blocking the event loop, an unhandled
error); each bad one says so and names its fix.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from demo_app.db import DbSession
from demo_app.models import Item, User
from demo_app.schemas import ItemSummary, PrimeReport, SleepResult, UserWithItems

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
