"""Calls to other services, and work a request does in parallel.

``/quote/{sku}`` asks the inventory service; ``/quote/{sku}/sequential``
asks inventory and then pricing (BAD EXAMPLE: neither call needs the other's
answer, so the request waits for both latencies); ``/quote/{sku}/parallel``
is its fix, both calls at once with ``asyncio.gather``.
``/examples/parallel-queries`` runs two queries at once in a task group, each
in its own session (one ``AsyncSession`` must never be shared by two tasks).

The HTTP clients are app-wide resources: this router's lifespan opens them
(FastAPI merges it into the app's when the router is included) and keeps
them on ``app.state``; each request reaches them through ``request.app``.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Annotated

import anyio
import httpx
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from ..db import SessionMaker, get_sessionmaker
from ..models import Item, User
from ..partners import INVENTORY_URL, PRICING_URL, inventory_app, pricing_app


@asynccontextmanager
async def service_clients(app: FastAPI) -> AsyncIterator[None]:
    """One client per service for the app's lifetime (connection reuse), closed at shutdown."""
    async with AsyncExitStack() as stack:
        for name, url, service in (
            ("inventory", INVENTORY_URL, inventory_app),
            ("pricing", PRICING_URL, pricing_app),
        ):
            transport = httpx.ASGITransport(app=service)
            client = httpx.AsyncClient(transport=transport, base_url=url, timeout=2.0)
            setattr(app.state, name, await stack.enter_async_context(client))
        yield


router = APIRouter(tags=["services"], lifespan=service_clients)


class Quote(BaseModel):
    sku: int
    available: int
    price_cents: int | None = None


class Counts(BaseModel):
    users: int
    items: int


def _client(request: Request, name: str) -> httpx.AsyncClient:
    client: httpx.AsyncClient = getattr(request.app.state, name)
    return client


def _answer(response: httpx.Response) -> dict[str, int]:
    """The service's JSON, or a 502 naming the service that failed."""
    if response.status_code >= 400:
        raise HTTPException(status_code=502, detail=f"{response.request.url.host} failed")
    data: dict[str, int] = response.json()
    return data


@router.get("/quote/{sku}", response_model=Quote)
async def quote(sku: int, request: Request) -> Quote:
    """One call to the inventory service."""
    stock = _answer(await _client(request, "inventory").get(f"/stock/{sku}"))
    return Quote(sku=sku, available=stock["available"])


@router.get("/quote/{sku}/sequential", response_model=Quote)
async def quote_sequential(sku: int, request: Request) -> Quote:
    """BAD EXAMPLE: two independent calls, one after another (the fix: ``/parallel``)."""
    stock = _answer(await _client(request, "inventory").get(f"/stock/{sku}"))
    price = _answer(await _client(request, "pricing").get(f"/prices/{sku}"))
    return Quote(sku=sku, available=stock["available"], price_cents=price["price_cents"])


@router.get("/quote/{sku}/parallel", response_model=Quote)
async def quote_parallel(sku: int, request: Request) -> Quote:
    """Both calls at once: the request waits for the slower one, not for both."""
    stock, price = await asyncio.gather(
        _client(request, "inventory").get(f"/stock/{sku}"),
        _client(request, "pricing").get(f"/prices/{sku}"),
    )
    return Quote(
        sku=sku, available=_answer(stock)["available"], price_cents=_answer(price)["price_cents"]
    )


@router.get("/examples/parallel-queries", response_model=Counts, include_in_schema=False)
async def parallel_queries(
    sessionmaker: Annotated[SessionMaker, Depends(get_sessionmaker)],
) -> Counts:
    """Two queries at once in a task group, each task with its own session."""
    counts: dict[str, int] = {}

    async def count(name: str, model: type[User] | type[Item]) -> None:
        async with sessionmaker() as session:
            counts[name] = await session.scalar(select(func.count()).select_from(model)) or 0

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(count, "users", User)
        tasks.start_soon(count, "items", Item)
    return Counts(**counts)
