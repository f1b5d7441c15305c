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

    Golden tests install it with :func:`install` so a trace recorded from the
    real app has the same timings on every run.
    """

    def __init__(self, start_ns: int = 1_700_000_000_000_000_000, step_ns: int = 10_000) -> None:
        self.value = start_ns
        self.step_ns = step_ns

    def __call__(self) -> int:
        self.value += self.step_ns
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
