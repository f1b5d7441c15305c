"""Substring search over users and items: the classic query-validation (422) examples."""

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import literal, select, union_all

from ..db import DbSession
from ..models import Item, User
from ..schemas import SearchHit, SearchResults

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchResults)
async def search(
    db: DbSession,
    q: Annotated[str, Query(min_length=2, max_length=50)],
    page: Annotated[int, Query(ge=1, le=500)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 10,
) -> SearchResults:
    """Case-insensitive substring matches, items before users, in one UNION query."""
    items = select(literal("item").label("kind"), Item.id, Item.name.label("label")).where(
        Item.name.icontains(q, autoescape=True) | Item.description.icontains(q, autoescape=True)
    )
    users = select(literal("user").label("kind"), User.id, User.email.label("label")).where(
        User.email.icontains(q, autoescape=True)
    )
    matches = union_all(items, users).subquery()
    rows = await db.execute(
        select(matches).order_by(matches.c.kind, matches.c.id).offset((page - 1) * size).limit(size)
    )
    return SearchResults(
        q=q,
        page=page,
        size=size,
        results=[SearchHit(kind=row.kind, id=row.id, label=row.label) for row in rows],
    )
