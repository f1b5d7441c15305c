"""The item catalogue, behind a router-level API-version check."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status
from sqlalchemy import select

from ..db import DbSession
from ..dependencies import PaginationDep, require_api_version
from ..models import Item
from ..schemas import ItemRead

router = APIRouter(prefix="/items", tags=["items"], dependencies=[Depends(require_api_version)])


@router.get("", response_model=list[ItemRead])
async def list_items(db: DbSession, page: PaginationDep) -> list[Item]:
    """List items in id order."""
    items = await db.scalars(select(Item).order_by(Item.id).offset(page.offset).limit(page.limit))
    return list(items)


@router.get("/{item_id}", response_model=ItemRead)
async def read_item(item_id: Annotated[int, Path(ge=1)], db: DbSession) -> Item:
    """One item by id; 404 if there is none."""
    item = await db.get(Item, item_id)
    if item is None:
        raise HTTPException(
            status_code=status.HTTP_404_NOT_FOUND, detail=f"item {item_id} not found"
        )
    return item
