"""Reversible monkey-patching of framework functions; a missing hook point warns once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracer.safety import warn_once

ORIGINAL_ATTR = "__trace_request_original__"


class Patcher:
    """Replaces attributes with wrappers and can put every original back."""

    def __init__(self) -> None:
        self._saved: list[tuple[object, str, Any]] = []

    def patch(self, owner: object, attr: str, make: Callable[[Any], Any], *, phase: str) -> bool:
        """Wrap ``owner.attr`` with ``make(original)``; warn once and skip if it is missing."""
        original = vars(owner).get(attr)
        if original is None:
            name = getattr(owner, "__name__", repr(owner))
            warn_once(
                f"missing:{name}.{attr}",
                f"{name}.{attr} not found in this version: the {phase} phase is not recorded.",
            )
            return False
        if is_ours(original):
            return True  # already ours (perhaps under another instrumentation's wrapper)
        return self.apply(owner, attr, make(original))

    def apply(self, owner: object, attr: str, wrapper: Any) -> bool:
        """Set ``owner.attr`` to ``wrapper`` (built around the current value), undoably."""
        original = vars(owner).get(attr)
        if original is None:
            return False
        if is_ours(original):
            return True  # already ours
        setattr(wrapper, ORIGINAL_ATTR, original)
        for copied in ("__name__", "__qualname__", "__doc__", "__module__"):
            try:
                setattr(wrapper, copied, getattr(original, copied))
            except (AttributeError, TypeError):
                pass
        setattr(owner, attr, wrapper)
        self._saved.append((owner, attr, original))
        return True

    def restore(self) -> None:
        for owner, attr, original in reversed(self._saved):
            setattr(owner, attr, original)
        self._saved.clear()


def is_ours(function: object, depth: int = 4) -> bool:
    """Whether ``function`` is our wrapper or wraps it: another instrumentation may have
    wrapped ours since, by ``functools.wraps``/wrapt (``__wrapped__``) or by a closure
    (OpenTelemetry's FastAPI instrumentation wraps ``BackgroundTask.__call__`` so)."""
    if function is None or depth < 0:
        return False
    if getattr(function, ORIGINAL_ATTR, None) is not None:
        return True
    if is_ours(getattr(function, "__wrapped__", None), depth - 1):
        return True
    for cell in getattr(function, "__closure__", None) or ():
        try:
            inner = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if callable(inner) and is_ours(inner, depth - 1):
            return True
    return False
