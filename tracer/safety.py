"""Keeping the host app safe from the tracer's own failures.

Every hook runs its bookkeeping inside :func:`guard`: an error there is
logged once per kind and swallowed, and the request goes on untouched.
"""

from __future__ import annotations

import logging
from collections import Counter

logger = logging.getLogger("trace_request")

#: How many internal errors of each kind were swallowed (for diagnostics and tests).
dropped: Counter[str] = Counter()
_reported: set[str] = set()


def report(kind: str, error: BaseException) -> None:
    """Count an internal error and log it the first time its kind is seen."""
    dropped[kind] += 1
    if kind not in _reported:
        _reported.add(kind)
        logger.warning(
            "trace-request: %s failed (%s: %s); this phase is not recorded, the request "
            "is unaffected. Further errors of this kind are counted silently.",
            kind,
            type(error).__name__,
            error,
        )


def warn_once(kind: str, message: str) -> None:
    """Log a degradation (a missing hook point) once."""
    if kind not in _reported:
        _reported.add(kind)
        logger.warning("trace-request: %s", message)


def reset() -> None:
    """Forget what was reported (tests)."""
    dropped.clear()
    _reported.clear()
