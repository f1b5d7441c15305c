"""Small timing helpers: medians, interleaving order, table formatting.

Everything here is standard library. Times are taken with ``time.perf_counter_ns``.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def rotated(items: Sequence[str], round_index: int) -> list[str]:
    """``items`` rotated by the round number, so no variant always runs first (or last)."""
    k = round_index % len(items)
    return list(items[k:]) + list(items[:k])


@dataclass
class Samples:
    """Per-round medians of one (endpoint, variant) cell."""

    round_medians: list[float] = field(default_factory=list)  # ns per request, one per round
    round_means: list[float] = field(default_factory=list)  # ns per request, one per round
    requests: int = 0

    @property
    def median_ns(self) -> float:
        """Median over rounds of the round's median request."""
        return median(self.round_medians)

    @property
    def mean_ns(self) -> float:
        """Median over rounds of the round's mean request (includes GC pauses)."""
        return median(self.round_means)


def ratio_per_round(a: Samples, b: Samples, *, means: bool = False) -> list[float]:
    """``a / b`` for each round (both measured in the same round)."""
    xs, ys = (a.round_means, b.round_means) if means else (a.round_medians, b.round_medians)
    return [x / y for x, y in zip(xs, ys, strict=False) if y > 0]


def overhead_ratio_per_round(ours: Samples, otel: Samples, base: Samples) -> list[float]:
    """``(ours - base) / (otel - base)`` for each round (round medians)."""
    out = []
    for o, t, b in zip(ours.round_medians, otel.round_medians, base.round_medians, strict=False):
        if t != b:
            out.append((o - b) / (t - b))
    return out


def spread(values: Sequence[float]) -> tuple[float, float]:
    """The 25th and 75th percentiles (the middle half of the rounds)."""
    if len(values) < 2:
        v = values[0] if values else float("nan")
        return v, v
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def fmt_us(ns: float) -> str:
    us = ns / 1000
    if us >= 1000:
        return f"{us / 1000:,.2f} ms"
    return f"{us:,.1f} µs"


def fmt_ratio(value: float) -> str:
    return "—" if value != value else f"{value:.3f}×"  # NaN check


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """A plain-text table; ``align`` holds one of ``<``/``>`` per column (default ``<``)."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    aligns = list(align) + ["<"] * (len(headers) - len(align))

    def line(cells: Sequence[str]) -> str:
        parts = [f"{c:{aligns[i]}{widths[i]}}" for i, c in enumerate(cells)]
        return "  ".join(parts).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])
