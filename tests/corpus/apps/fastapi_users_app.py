"""The real ``fastapi-users`` library on async SQLAlchemy (aiosqlite), JWT bearer auth.

Its own routers are included with prefixes (``/auth/jwt``, ``/users``), its
``current_user(active=True, superuser=…)`` dependencies chain through the
authenticator, the JWT strategy, ``get_user_manager`` → ``get_user_db`` →
``get_async_session`` (all yield dependencies). The user database adapter is
written here (``fastapi-users-db-sqlalchemy`` pins SQLAlchemy < 2.1); passwords
use a fast deterministic hash and tokens have no expiry, so every run answers
byte for byte the same.
"""

import hashlib
import hmac
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin, schemas
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users.db import BaseUserDatabase
from fastapi_users.jwt import generate_jwt
from fastapi_users.password import PasswordHelperProtocol
from sqlalchemy import String, Uuid, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool

SECRET = "corpus-jwt-secret-corpus-jwt-secret"
ADMIN_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
MEMBER_ID = uuid.UUID("00000000-0000-4000-8000-000000000002")
MISSING_ID = uuid.UUID("00000000-0000-4000-8000-0000000000ff")
#: the seeded users: (id, email, password, superuser)
USERS = (
    (ADMIN_ID, "admin@example.com", "admin-pw", True),
    (MEMBER_ID, "member@example.com", "member-pw", False),
)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "fu_user"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    hashed_password: Mapped[str] = mapped_column(String(1024))
    is_active: Mapped[bool] = mapped_column(default=True)
    is_superuser: Mapped[bool] = mapped_column(default=False)
    is_verified: Mapped[bool] = mapped_column(default=False)


class UserRead(schemas.BaseUser[uuid.UUID]):
    pass


class UserUpdate(schemas.BaseUserUpdate):
    pass


class FastPasswordHelper(PasswordHelperProtocol):
    """SHA-256 instead of argon2/bcrypt: the same protocol, microseconds instead of 50 ms."""

    def hash(self, password: str) -> str:
        return hashlib.sha256(password.encode()).hexdigest()

    def verify_and_update(self, plain_password: str, hashed_password: str) -> tuple[bool, None]:
        return hmac.compare_digest(self.hash(plain_password), hashed_password), None

    def generate(self) -> str:
        return secrets.token_urlsafe()


class SQLAlchemyUserDatabase(BaseUserDatabase[User, uuid.UUID]):
    """The adapter ``fastapi-users-db-sqlalchemy`` provides, cut down to what the corpus uses."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, id: uuid.UUID) -> User | None:
        return await self.session.get(User, id)

    async def get_by_email(self, email: str) -> User | None:
        statement = select(User).where(func.lower(User.email) == func.lower(email))
        return (await self.session.execute(statement)).unique().scalar_one_or_none()

    async def create(self, create_dict: dict[str, Any]) -> User:
        user = User(**create_dict)
        self.session.add(user)
        await self.session.commit()
        await self.session.refresh(user)
        return user

    async def update(self, user: User, update_dict: dict[str, Any]) -> User:
        for key, value in update_dict.items():
            setattr(user, key, value)
        self.session.add(user)
        await self.session.commit()
        await self.session.refresh(user)
        return user

    async def delete(self, user: User) -> None:
        await self.session.delete(user)
        await self.session.commit()


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET


def token_for(user_id: uuid.UUID) -> str:
    """The token the login route issues for ``user_id`` (no expiry: deterministic)."""
    return generate_jwt({"sub": str(user_id), "aud": ["fastapi-users:auth"]}, SECRET, None)


def bearer(user_id: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user_id)}"}


def create_app(workdir: Path) -> FastAPI:
    engine = create_async_engine(
        "sqlite+aiosqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    session_maker = async_sessionmaker(engine, expire_on_commit=False)
    password_helper = FastPasswordHelper()

    async def get_async_session() -> AsyncIterator[AsyncSession]:
        async with session_maker() as session:
            yield session

    async def get_user_db(
        session: Annotated[AsyncSession, Depends(get_async_session)],
    ) -> AsyncIterator[SQLAlchemyUserDatabase]:
        yield SQLAlchemyUserDatabase(session)

    async def get_user_manager(
        user_db: Annotated[SQLAlchemyUserDatabase, Depends(get_user_db)],
    ) -> AsyncIterator[UserManager]:
        yield UserManager(user_db, password_helper)

    def get_jwt_strategy() -> JWTStrategy[User, uuid.UUID]:
        return JWTStrategy(secret=SECRET, lifetime_seconds=None)

    auth_backend = AuthenticationBackend(
        name="jwt",
        transport=BearerTransport(tokenUrl="auth/jwt/login"),
        get_strategy=get_jwt_strategy,
    )
    fastapi_users = FastAPIUsers[User, uuid.UUID](get_user_manager, [auth_backend])
    current_active_user = fastapi_users.current_user(active=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with session_maker() as session:
            for user_id, email, password, superuser in USERS:
                session.add(
                    User(
                        id=user_id,
                        email=email,
                        hashed_password=password_helper.hash(password),
                        is_superuser=superuser,
                        is_verified=True,
                    )
                )
            await session.commit()
        yield
        await engine.dispose()

    app = FastAPI(title="fastapi-users", lifespan=lifespan)
    app.include_router(
        fastapi_users.get_auth_router(auth_backend), prefix="/auth/jwt", tags=["auth"]
    )
    app.include_router(
        fastapi_users.get_users_router(UserRead, UserUpdate), prefix="/users", tags=["users"]
    )

    @app.get("/authenticated-route")
    async def authenticated_route(
        user: Annotated[User, Depends(current_active_user)],
    ) -> dict[str, str]:
        return {"message": f"Hello {user.email}!"}

    return app
