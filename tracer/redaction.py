"""What never leaves the process in clear: credentials in headers, secret-looking fields."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

REDACTED = "[redacted]"

#: Headers whose values are always replaced.
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-csrf-token",
        "x-xsrf-token",
    }
)
#: Header or field names that look like they hold a secret.
SECRET_NAME = re.compile(r"pass(word|wd)?|secret|token|api[-_]?key|credential|session", re.I)


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def redact_headers(
    headers: Iterable[Sequence[str]], extra: frozenset[str] = frozenset()
) -> list[list[str]]:
    """Lower-cased ``[name, value]`` pairs (lists round-trip through JSON); secrets hidden.

    ``extra`` names more headers to hide (lower-case), e.g. a tenant header.
    """
    out = []
    for name, value in headers:
        key = name.lower()
        secret = key in extra or _secret_header(key)
        out.append([key, REDACTED if secret else value])
    return out


@functools.lru_cache(maxsize=512)
def _secret_header(key: str) -> bool:
    """Per header name, decided once: the same few names arrive on every request."""
    return key in SENSITIVE_HEADERS or is_secret_name(key)
