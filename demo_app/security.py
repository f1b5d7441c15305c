"""Password hashing and signed access tokens, using only the standard library.

Hashes are PBKDF2-HMAC-SHA256 stored as ``pbkdf2_sha256$<iterations>$<salt>$<hash>``
so the cost can be raised later without invalidating existing hashes. Tokens are
``<payload>.<signature>``: base64url JSON ``{"sub", "exp"}`` signed with HMAC-SHA256.
They are a minimal stand-in for JWTs, which would need an extra dependency.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import json
import secrets
import time

# Well below OWASP's 600k for SHA-256, to keep the demo (and its tests) snappy.
PBKDF2_ITERATIONS = 100_000
_ALGORITHM = "pbkdf2_sha256"


def hash_password(password: str, *, iterations: int = PBKDF2_ITERATIONS) -> str:
    """Return a salted, self-describing hash of ``password``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{_ALGORITHM}${iterations}${_b64encode(salt)}${_b64encode(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Check ``password`` against a hash from :func:`hash_password`, in constant time."""
    try:
        algorithm, iterations, salt, expected = stored.split("$")
        if algorithm != _ALGORITHM:
            return False
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), _b64decode(salt), int(iterations))
        return hmac.compare_digest(digest, _b64decode(expected))
    except (ValueError, binascii.Error):
        return False


@functools.cache
def dummy_password_hash() -> str:
    """A hash to verify against when the e-mail is unknown.

    A failed login then costs the same time whether or not the account exists,
    so response times do not reveal which e-mails are registered.
    """
    return hash_password(secrets.token_urlsafe(16))


def issue_token(user_id: int, secret_key: bytes, ttl_seconds: int) -> str:
    """Return a token that identifies ``user_id`` until ``ttl_seconds`` from now."""
    payload = json.dumps({"sub": str(user_id), "exp": int(time.time()) + ttl_seconds})
    body = _b64encode(payload.encode())
    return f"{body}.{_sign(body, secret_key)}"


def read_token(token: str, secret_key: bytes) -> int | None:
    """Return the user id inside a valid, unexpired token, else ``None``."""
    body, _, signature = token.partition(".")
    if not hmac.compare_digest(signature.encode(), _sign(body, secret_key).encode()):
        return None
    try:
        claims = json.loads(_b64decode(body))
        if int(claims["exp"]) < time.time():
            return None
        return int(claims["sub"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None


def _sign(body: str, secret_key: bytes) -> str:
    return _b64encode(hmac.new(secret_key, body.encode(), hashlib.sha256).digest())


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
