"""Reusable dependencies: settings, pagination, authentication and API versioning.

Authentication is a chain: ``oauth2_scheme`` extracts the bearer token,
``get_current_user`` turns it into a ``User``, ``require_admin`` checks a role.
"""

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request, status
from fastapi.security import OAuth2PasswordBearer

from .config import Settings
from .db import DbSession
from .models import User
from .security import read_token

SUPPORTED_API_VERSIONS = ("1",)

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="login")


def get_settings(request: Request) -> Settings:
    """The settings ``create_app`` stored on the app."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


class Pagination:
    """``?offset=&limit=`` shared by every list endpoint, with the bounds in one place."""

    def __init__(
        self,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> None:
        self.offset = offset
        self.limit = limit


PaginationDep = Annotated[Pagination, Depends()]


async def get_current_user(
    token: Annotated[str, Depends(oauth2_scheme)], db: DbSession, settings: SettingsDep
) -> User:
    """Resolve the bearer token to a user; 401 if it is invalid, expired or the user is gone."""
    user_id = read_token(token, settings.secret_key)
    user = await db.get(User, user_id) if user_id is not None else None
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="invalid or expired token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def require_admin(user: CurrentUser) -> User:
    """Let only admins through: 403 for an authenticated user without the role."""
    if not user.is_admin:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="admin only")
    return user


AdminUser = Annotated[User, Depends(require_admin)]


async def require_api_version(
    x_api_version: Annotated[str | None, Header()] = None,
) -> None:
    """Reject an ``X-API-Version`` this server does not speak; no header means the latest."""
    if x_api_version is not None and x_api_version not in SUPPORTED_API_VERSIONS:
        raise HTTPException(
            status_code=status.HTTP_400_BAD_REQUEST,
            detail=f"unsupported X-API-Version: {x_api_version}",
        )
