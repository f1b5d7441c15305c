"""Async SQLAlchemy (aiosqlite) behind a chain of yield dependencies and the OAuth2 password flow.

``get_current_superuser`` → ``get_current_user`` → (``get_token`` → the
``OAuth2PasswordBearer`` scheme) and ``get_db`` → ``get_session``: every link
is an ``async def``, the two database ones are generators (``get_db`` commits
or rolls back, ``get_session`` closes). Endpoints that take ``get_db`` next to
the user chain hit the per-request dependency cache. Routes live on a router
included with ``prefix="/api"``.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool

from tests.corpus.apps.auth import hash_password, token_for, user_id_from, verify_password


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(100), unique=True)
    hashed_password: Mapped[str] = mapped_column(String(100))
    is_superuser: Mapped[bool] = mapped_column(default=False)


class Note(Base):
    __tablename__ = "note"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    text: Mapped[str] = mapped_column(String(200))


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    is_superuser: bool


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=200)


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    owner_id: int
    text: str


#: the seeded accounts: (id, email, password, superuser)
ACCOUNTS = ((1, "root@example.com", "root-pw", True), (2, "alice@example.com", "alice-pw", False))


def create_app(workdir: Path) -> FastAPI:
    engine = create_async_engine(
        "sqlite+aiosqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    session_factory = async_sessionmaker(engine, expire_on_commit=False)

    async def get_session() -> AsyncIterator[AsyncSession]:
        async with session_factory() as session:
            yield session

    async def get_db(
        session: Annotated[AsyncSession, Depends(get_session)],
    ) -> AsyncIterator[AsyncSession]:
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise

    DB = Annotated[AsyncSession, Depends(get_db)]
    oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/token")

    async def get_token(token: Annotated[str, Depends(oauth2_scheme)]) -> int:
        user_id = user_id_from(token)
        if user_id is None:
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="Invalid token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return user_id

    async def get_current_user(user_id: Annotated[int, Depends(get_token)], db: DB) -> Account:
        account = await db.get(Account, user_id)
        if account is None:
            raise HTTPException(status_code=401, detail="Unknown user")
        return account

    CurrentUser = Annotated[Account, Depends(get_current_user)]

    async def get_current_superuser(user: CurrentUser) -> Account:
        if not user.is_superuser:
            raise HTTPException(status_code=403, detail="Not a superuser")
        return user

    async def get_note(note_id: int, db: DB, user: CurrentUser) -> Note:
        note = await db.get(Note, note_id)
        if note is None or note.owner_id != user.id:
            raise HTTPException(status_code=404, detail="Note not found")
        return note

    router = APIRouter()

    @router.post("/token")
    async def login(
        form_data: Annotated[OAuth2PasswordRequestForm, Depends()], db: DB
    ) -> dict[str, str]:
        result = await db.execute(select(Account).where(Account.email == form_data.username))
        account = result.scalar_one_or_none()
        if account is None or not verify_password(form_data.password, account.hashed_password):
            raise HTTPException(status_code=400, detail="Incorrect username or password")
        return {"access_token": token_for(account.id), "token_type": "bearer"}

    @router.get("/me", response_model=AccountOut)
    async def me(user: CurrentUser) -> Account:
        return user

    @router.get("/admin/stats")
    async def admin_stats(
        admin: Annotated[Account, Depends(get_current_superuser)], db: DB
    ) -> dict[str, int]:
        accounts = (await db.execute(select(func.count()).select_from(Account))).scalar_one()
        notes = (await db.execute(select(func.count()).select_from(Note))).scalar_one()
        return {"accounts": accounts, "notes": notes}

    @router.get("/notes/{note_id}", response_model=NoteOut)
    async def read_note(note: Annotated[Note, Depends(get_note)]) -> Note:
        return note

    @router.post("/notes", response_model=NoteOut, status_code=201)
    async def create_note(body: NoteIn, user: CurrentUser, db: DB) -> Note:
        note = Note(owner_id=user.id, text=body.text)
        db.add(note)
        await db.flush()
        return note

    @router.get("/crash")
    async def crash(user: CurrentUser, db: DB) -> dict[str, str]:
        await db.execute(select(Note))
        raise ZeroDivisionError("unhandled in the handler")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with session_factory() as session:
            for account_id, email, password, superuser in ACCOUNTS:
                session.add(
                    Account(
                        id=account_id,
                        email=email,
                        hashed_password=hash_password(password),
                        is_superuser=superuser,
                    )
                )
            session.add(Note(id=1, owner_id=2, text="alice's note"))
            await session.commit()
        yield
        await engine.dispose()

    app = FastAPI(title="async-chain", lifespan=lifespan)
    app.include_router(router, prefix="/api")
    return app
