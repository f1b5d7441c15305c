"""Sign-up, user lookup and the current user's profile."""

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Path, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from ..db import DbSession, SessionMaker, get_sessionmaker
from ..dependencies import CurrentUser, PaginationDep
from ..emails import send_welcome_email
from ..errors import UserNotFound
from ..models import User
from ..schemas import UserCreate, UserRead
from ..security import hash_password

#: included with ``prefix="/users"`` by :func:`demo_app.main.create_app` (the
#: ``include_router(…, prefix=…)`` form; the other routers declare theirs here)
router = APIRouter(tags=["users"])


def _email_taken() -> HTTPException:
    return HTTPException(status_code=status.HTTP_409_CONFLICT, detail="email taken")


@router.post("", response_model=UserRead, status_code=status.HTTP_201_CREATED)
async def create_user(
    payload: UserCreate,
    db: DbSession,
    background_tasks: BackgroundTasks,
    sessionmaker: Annotated[SessionMaker, Depends(get_sessionmaker)],
) -> User:
    """Register a user and queue a welcome e-mail; 409 if the e-mail is already registered."""
    if await db.scalar(select(User.id).where(User.email == payload.email)) is not None:
        raise _email_taken()
    # PBKDF2 is CPU-bound on purpose: run it in the threadpool so it does not hold the event loop
    password_hash = await run_in_threadpool(hash_password, payload.password)
    user = User(email=payload.email, password_hash=password_hash)
    db.add(user)
    try:
        # Commit here, not in get_db: its teardown runs only after the response is sent.
        await db.commit()
    except IntegrityError:
        # A concurrent sign-up with the same e-mail won the race past the check above.
        await db.rollback()
        raise _email_taken() from None
    await db.refresh(user)
    background_tasks.add_task(send_welcome_email, sessionmaker, user.email)
    return user


@router.get("", response_model=list[UserRead])
async def list_users(db: DbSession, page: PaginationDep) -> list[User]:
    """List users, oldest first."""
    users = await db.scalars(select(User).order_by(User.id).offset(page.offset).limit(page.limit))
    return list(users)


# Declared before /{user_id}: routes match in order, and "me" is not an int.
@router.get("/me", response_model=UserRead)
async def read_me(user: CurrentUser) -> User:
    """The user the bearer token belongs to; 401 without a valid token."""
    return user


@router.get("/{user_id}", response_model=UserRead)
async def read_user(user_id: Annotated[int, Path(ge=1)], db: DbSession) -> User:
    """One user by id; 404 (via the ``UserNotFound`` handler) if there is none."""
    user = await db.get(User, user_id)
    if user is None:
        raise UserNotFound(user_id)
    return user
