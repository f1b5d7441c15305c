"""Deterministic password hashes and bearer tokens shared by the hand-written auth apps.

Real apps use bcrypt/argon2 and JWTs with an expiry; the corpus needs the same
shapes without the cost or the clock: a salted SHA-256 and an HMAC-signed token.
"""

from __future__ import annotations

import hashlib
import hmac

SECRET = b"corpus-secret"


def hash_password(password: str) -> str:
    return hashlib.sha256(b"salt:" + password.encode()).hexdigest()


def verify_password(password: str, hashed: str) -> bool:
    return hmac.compare_digest(hash_password(password), hashed)


def token_for(user_id: int) -> str:
    signature = hmac.new(SECRET, str(user_id).encode(), hashlib.sha256).hexdigest()[:24]
    return f"{user_id}.{signature}"


def user_id_from(token: str) -> int | None:
    """The user id a token was issued for, or None when it is malformed or forged."""
    user_id, _, _signature = token.partition(".")
    if not user_id.isdigit() or not hmac.compare_digest(token_for(int(user_id)), token):
        return None
    return int(user_id)


def bearer(user_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user_id)}"}
