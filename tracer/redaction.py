"""What never leaves the process in clear: credentials in headers, secret-looking fields."""

from __future__ import annotations

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
        secret = key in SENSITIVE_HEADERS or key in extra or is_secret_name(key)
        out.append([key, REDACTED if secret else value])
    return out
