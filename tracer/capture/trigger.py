"""The trigger header: force a full trace of one request, without letting outsiders do it.

The header value is ``<unix seconds>.<hex HMAC-SHA256(secret, unix seconds)>``:
only someone holding the shared secret can make one, and a token expires
after ``max_age`` seconds, so a leaked one is useless soon after.

    token=$(python -c 'import tracer; print(tracer.trigger_token("s3cret"))')
    curl -H "x-trace-request: $token" https://api.example/orders
"""

from __future__ import annotations

import hashlib
import hmac
import time


def trigger_token(secret: bytes | str, *, now: float | None = None) -> str:
    """A fresh trigger-header value for ``secret``."""
    stamp = str(int(time.time() if now is None else now))
    return f"{stamp}.{_sign(_key(secret), stamp)}"


def verify_token(
    token: str, secret: bytes | str, *, max_age: int = 300, now: float | None = None
) -> bool:
    """True for a token made with ``secret`` less than ``max_age`` seconds ago.

    Anything else — malformed, non-ASCII, expired — is False, never an
    exception: a bad header must read as no header, so the request is
    sampled (and its errors traced) as if it had none.
    """
    stamp, sep, signature = token.strip().partition(".")
    if not sep or not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
        return False
    if not signature.isascii() or len(signature) != 64:
        return False
    age = (time.time() if now is None else now) - int(stamp)
    if not -60 <= age <= max_age:  # a minute of clock skew into the future
        return False
    return hmac.compare_digest(signature, _sign(_key(secret), stamp))


def _key(secret: bytes | str) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _sign(key: bytes, stamp: str) -> str:
    return hmac.new(key, stamp.encode(), hashlib.sha256).hexdigest()
