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
        if getattr(original, ORIGINAL_ATTR, None) is not None:
            return True  # already ours
        return self.apply(owner, attr, make(original))

    def apply(self, owner: object, attr: str, wrapper: Any) -> bool:
        """Set ``owner.attr`` to ``wrapper`` (built around the current value), undoably."""
        original = vars(owner).get(attr)
        if original is None:
            return False
        if getattr(original, ORIGINAL_ATTR, None) is not None:
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
