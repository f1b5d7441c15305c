"""Clocks. The recorder reads time only through :data:`now_ns` so tests can swap in a fake."""

from __future__ import annotations

import time
from collections.abc import Callable

#: Monotonic nanoseconds; every span timestamp is taken with this.
now_ns: Callable[[], int] = time.perf_counter_ns
#: Wall-clock nanoseconds, read once per request to anchor the monotonic readings.
wall_ns: Callable[[], int] = time.time_ns


class FakeClock:
    """A deterministic clock: every reading advances by ``step_ns``.

    Simple, but every extra reading shifts all later timestamps: recordings
    compared with golden files use :class:`BoundaryClock` instead.
    """

    def __init__(self, start_ns: int = 1_700_000_000_000_000_000, step_ns: int = 10_000) -> None:
        self.value = start_ns
        self.step_ns = step_ns

    def __call__(self) -> int:
        self.value += self.step_ns
        return self.value


class BoundaryClock:
    """A deterministic clock whose time is the number of span boundaries passed so far.

    ``position()`` returns how many span starts and ends the request has
    recorded; a reading is ``start_ns + position() * step_ns``. Reading the
    clock does not advance it, so a hook that reads it once more (to measure a
    wait, say) changes no timestamp: golden traces change only when the spans
    themselves do. Readings between two boundaries are equal (nothing
    measurable happened); ``position()`` returning ``None`` (no request yet)
    repeats the last reading.
    """

    def __init__(
        self,
        position: Callable[[], int | None],
        start_ns: int = 1_700_000_000_000_000_000,
        step_ns: int = 10_000,
    ) -> None:
        self.position = position
        self.start_ns = start_ns
        self.step_ns = step_ns
        self.value = start_ns

    def __call__(self) -> int:
        position = self.position()
        if position is not None:
            self.value = max(self.value, self.start_ns + position * self.step_ns)
        return self.value


def install(monotonic: Callable[[], int], wall: Callable[[], int] | None = None) -> None:
    """Replace the clocks (tests only)."""
    global now_ns, wall_ns
    now_ns = monotonic
    wall_ns = wall if wall is not None else monotonic


def reset() -> None:
    global now_ns, wall_ns
    now_ns = time.perf_counter_ns
    wall_ns = time.time_ns
