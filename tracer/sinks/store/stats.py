"""``BudgetStats``: what the persistence budget kept and dropped, for ``list``'s footer.

The writers (one per worker process) add their per-window counts to the
``budget_windows`` table; a reader sums the windows of the last minute of
traffic, so ``list`` can say what the rows it shows are a selection of.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracer.sinks.store.budget import ALL, ERROR, KINDS, REASONS, REST, SAMPLE, SLOW, TRIGGERED


@dataclass(frozen=True, slots=True)
class BudgetStats:
    """Counts summed over the windows from ``start_ns`` to ``end_ns`` (wall clock, ns).

    ``offered`` is by kind (``triggered``, ``error``, ``slow``, ``rest``);
    ``kept`` by reason (``triggered``, ``error``, ``slow``, ``all``, ``sample``).
    ``per_second`` is the budget of each writer process (``None``: unlimited).
    """

    start_ns: int
    end_ns: int
    per_second: float | None
    offered: Mapping[str, int]
    kept: Mapping[str, int]

    @property
    def total_offered(self) -> int:
        return sum(self.offered.values())

    @property
    def total_kept(self) -> int:
        return sum(self.kept.values())

    @property
    def dropped(self) -> int:
        """Traces the budget did not persist."""
        return max(0, self.total_offered - self.total_kept)

    @property
    def sample_percent(self) -> float | None:
        """The share of the ordinary traces that reached the sample and were kept."""
        sampled_from = self.offered[REST] - self.kept[ALL]
        return 100.0 * self.kept[SAMPLE] / sampled_from if sampled_from > 0 else None

    def describe(self, period: str = "in the last minute") -> str:
        """One line for ``list``, e.g. ``kept 120 of 5,400 traces in the last minute: ...``."""
        offered, kept = self.total_offered, self.total_kept
        budget = "" if self.per_second is None else f" (budget {self.per_second:g}/s per process)"
        if not self.dropped:
            return f"kept all {offered:,} traces {period}{budget}"
        parts = []
        for what, kind in (("error", ERROR), ("triggered request", TRIGGERED)):
            n, k = self.offered[kind], self.kept[kind]
            if n:
                label = what if n == 1 else f"{what}s"
                parts.append(f"all {n:,} {label}" if k >= n else f"{k:,} of {n:,} {label}")
        slow_offered, slow_kept = self.offered[SLOW], self.kept[SLOW]
        if slow_offered:
            parts.append(
                f"all {slow_offered:,} slow ones"
                if slow_kept >= slow_offered
                else f"the {slow_kept:,} slowest of {slow_offered:,} slow ones"
            )
        percent = self.sample_percent
        if percent:
            parts.append(f"a {_percent(percent)} sample of the rest")
        elif percent is not None:
            parts.append(f"none of the other {self.offered[REST] - self.kept[ALL]:,}")
        return f"kept {kept:,} of {offered:,} traces {period}: {', '.join(parts)}{budget}"


def _percent(value: float) -> str:
    return f"{value:.0f} %" if value >= 10 else f"{value:.1f} %"


def from_rows(rows: Sequence[Sequence[Any]]) -> BudgetStats | None:
    """Sum ``BUDGET_COLUMNS`` rows (``None`` when there are none)."""
    if not rows:
        return None
    offered = dict.fromkeys(KINDS, 0)
    kept = dict.fromkeys(REASONS, 0)
    start = min(int(r[0]) for r in rows)
    end = max(int(r[0]) + int(r[1] or 0) for r in rows)
    per_second = rows[-1][2]
    for row in rows:
        values = row[3:]
        for i, kind in enumerate(KINDS):
            offered[kind] += int(values[i] or 0)
        for i, reason in enumerate(REASONS):
            kept[reason] += int(values[len(KINDS) + i] or 0)
    return BudgetStats(
        start_ns=start,
        end_ns=end,
        per_second=None if per_second is None else float(per_second),
        offered=offered,
        kept=kept,
    )
