"""Log-in: exchange an e-mail and password for a bearer token."""

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ..db import DbSession
from ..dependencies import SettingsDep
from ..models import User
from ..schemas import LoginRequest, Token
from ..security import dummy_password_hash, issue_token, verify_password

router = APIRouter(tags=["auth"])


@router.post("/login", response_model=Token)
async def login(credentials: LoginRequest, db: DbSession, settings: SettingsDep) -> Token:
    """Return a bearer token; 401 with one message for any wrong e-mail or password.

    Takes JSON rather than the OAuth2 form, which would need python-multipart.
    """
    user = await db.scalar(select(User).where(User.email == credentials.email.lower()))
    stored_hash = user.password_hash if user is not None else dummy_password_hash()
    # PBKDF2 is CPU-bound on purpose: verify in the threadpool, off the event loop
    valid = await run_in_threadpool(verify_password, credentials.password, stored_hash)
    if not valid or user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="incorrect email or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Token(access_token=issue_token(user.id, settings.secret_key, settings.token_ttl_seconds))
