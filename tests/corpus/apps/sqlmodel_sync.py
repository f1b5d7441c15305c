"""SQLModel with sync sessions, shaped like full-stack-fastapi-template's backend.

``def get_db()`` yields a sync ``Session`` (``SessionDep``); ``TokenDep`` is an
``OAuth2PasswordBearer``; ``get_current_user(session, token)`` and
``get_current_active_superuser(current_user)`` chain on them, so an endpoint
that also takes ``SessionDep`` hits FastAPI's per-request dependency cache.
Feature routers are included into ``api_router`` with prefixes, and
``api_router`` into the app under ``/api/v1``. ``/utils/stats`` is an
``async def`` endpoint running sync SQLAlchemy on the event loop.
"""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from sqlalchemy.pool import StaticPool
from sqlmodel import Field, Session, SQLModel, col, create_engine, func, select

from tests.corpus.apps.auth import hash_password, token_for, user_id_from, verify_password


class SMUser(SQLModel, table=True):
    __tablename__ = "corpus_sm_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)
    full_name: str = ""
    hashed_password: str
    is_active: bool = True
    is_superuser: bool = False


class SMItem(SQLModel, table=True):
    __tablename__ = "corpus_sm_item"

    id: int | None = Field(default=None, primary_key=True)
    title: str
    description: str | None = None
    owner_id: int = Field(foreign_key="corpus_sm_user.id")


class UserPublic(SQLModel):
    id: int
    email: str
    full_name: str
    is_superuser: bool


class ItemCreate(SQLModel):
    title: str = Field(min_length=1, max_length=255)
    description: str | None = None


class ItemPublic(SQLModel):
    id: int
    title: str
    description: str | None
    owner_id: int


class Token(SQLModel):
    access_token: str
    token_type: str = "bearer"


#: the seeded users: (id, email, password, superuser)
USERS = ((1, "admin@example.com", "admin-pw", True), (2, "user@example.com", "user-pw", False))


def create_app(workdir: Path) -> FastAPI:
    engine = create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )

    def get_db() -> Iterator[Session]:
        with Session(engine) as session:
            yield session

    SessionDep = Annotated[Session, Depends(get_db)]
    reusable_oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/login/access-token")
    TokenDep = Annotated[str, Depends(reusable_oauth2)]

    def get_current_user(session: SessionDep, token: TokenDep) -> SMUser:
        user_id = user_id_from(token)
        user = session.get(SMUser, user_id) if user_id is not None else None
        if user is None:
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="Could not validate credentials",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not user.is_active:
            raise HTTPException(status_code=400, detail="Inactive user")
        return user

    CurrentUser = Annotated[SMUser, Depends(get_current_user)]

    def get_current_active_superuser(current_user: CurrentUser) -> SMUser:
        if not current_user.is_superuser:
            raise HTTPException(status_code=403, detail="The user doesn't have enough privileges")
        return current_user

    login = APIRouter(tags=["login"])

    @login.post("/login/access-token")
    def login_access_token(
        session: SessionDep, form_data: Annotated[OAuth2PasswordRequestForm, Depends()]
    ) -> Token:
        user = session.exec(select(SMUser).where(SMUser.email == form_data.username)).first()
        if user is None or not verify_password(form_data.password, user.hashed_password):
            raise HTTPException(status_code=400, detail="Incorrect email or password")
        return Token(access_token=token_for(user.id or 0))

    users = APIRouter(tags=["users"])

    @users.get(
        "/",
        dependencies=[Depends(get_current_active_superuser)],
        response_model=list[UserPublic],
    )
    def read_users(session: SessionDep, skip: int = 0, limit: int = 100) -> list[SMUser]:
        return list(session.exec(select(SMUser).order_by(col(SMUser.id)).offset(skip).limit(limit)))

    @users.get("/me", response_model=UserPublic)
    def read_user_me(current_user: CurrentUser) -> SMUser:
        return current_user

    @users.get("/{user_id}", response_model=UserPublic)
    def read_user_by_id(user_id: int, session: SessionDep, current_user: CurrentUser) -> SMUser:
        user = session.get(SMUser, user_id)
        if user is None:
            raise HTTPException(status_code=404, detail="User not found")
        return user

    items = APIRouter(tags=["items"])

    def get_item(item_id: int, session: SessionDep, current_user: CurrentUser) -> SMItem:
        item = session.get(SMItem, item_id)
        if item is None or item.owner_id != current_user.id:
            raise HTTPException(status_code=404, detail="Item not found")
        return item

    @items.get("/{item_id}", response_model=ItemPublic)
    def read_item(item: Annotated[SMItem, Depends(get_item)]) -> SMItem:
        return item

    @items.post("/", response_model=ItemPublic, status_code=201)
    def create_item(session: SessionDep, current_user: CurrentUser, item_in: ItemCreate) -> SMItem:
        item = SMItem.model_validate(item_in, update={"owner_id": current_user.id})
        session.add(item)
        session.commit()
        session.refresh(item)
        return item

    utils = APIRouter(tags=["utils"])

    @utils.get("/health-check/")
    async def health_check() -> bool:
        return True

    @utils.get("/stats")
    async def stats(session: SessionDep) -> dict[str, int]:
        # sync SQLAlchemy on the event loop, as many real async endpoints do
        users_count = session.exec(select(func.count()).select_from(SMUser)).one()
        items_count = session.exec(select(func.count()).select_from(SMItem)).one()
        return {"users": users_count, "items": items_count}

    api_router = APIRouter()
    api_router.include_router(login)
    api_router.include_router(users, prefix="/users")
    api_router.include_router(items, prefix="/items")
    api_router.include_router(utils, prefix="/utils")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tables = [SQLModel.metadata.tables[t] for t in ("corpus_sm_user", "corpus_sm_item")]
        SQLModel.metadata.create_all(engine, tables=tables)
        with Session(engine) as session:
            for user_id, email, password, superuser in USERS:
                session.add(
                    SMUser(
                        id=user_id,
                        email=email,
                        full_name=email.split("@")[0],
                        hashed_password=hash_password(password),
                        is_superuser=superuser,
                    )
                )
            session.add(SMItem(id=1, title="first", owner_id=2))
            session.commit()
        yield
        engine.dispose()

    app = FastAPI(title="sqlmodel-sync", lifespan=lifespan)
    app.include_router(api_router, prefix="/api/v1")
    return app
