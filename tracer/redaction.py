"""What never leaves the process in clear: credentials in headers, secret-looking fields."""

from __future__ import annotations

import re
from collections.abc import Iterable

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
SECRET_NAME = re.compile(r"pass(word|wd)?|secret|token|api[-_]?key|credential|session|auth", re.I)


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Lower-cased header pairs with sensitive values replaced."""
    out = []
    for name, value in headers:
        key = name.lower()
        if key in SENSITIVE_HEADERS or is_secret_name(key):
            out.append((key, REDACTED))
        else:
            out.append((key, value))
    return out
