"""Admin-only views; the ``require_admin`` dependency guards the whole router."""

from fastapi import APIRouter, Depends
from sqlalchemy import func, select

from ..db import DbSession
from ..dependencies import PaginationDep, require_admin
from ..models import Item, OutboxMessage, User
from ..schemas import AdminStats, OutboxMessageRead

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])


@router.get("/stats", response_model=AdminStats)
async def stats(db: DbSession) -> AdminStats:
    """Row counts: 401 without a token, 403 for non-admins."""
    count = func.count()
    return AdminStats(
        users=await db.scalar(select(count).select_from(User)) or 0,
        admins=await db.scalar(select(count).select_from(User).where(User.is_admin)) or 0,
        items=await db.scalar(select(count).select_from(Item)) or 0,
        outbox=await db.scalar(select(count).select_from(OutboxMessage)) or 0,
    )


@router.get("/outbox", response_model=list[OutboxMessageRead])
async def outbox(db: DbSession, page: PaginationDep) -> list[OutboxMessage]:
    """Queued e-mails, newest first: shows what the background tasks wrote."""
    messages = await db.scalars(
        select(OutboxMessage)
        .order_by(OutboxMessage.id.desc())
        .offset(page.offset)
        .limit(page.limit)
    )
    return list(messages)
