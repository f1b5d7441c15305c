"""Which traces the store persists: a fixed budget per second, the interesting ones first.

A local store is for looking at requests, not for archiving a busy server's
traffic: persisting every trace costs the writer thread JSON, zlib and SQLite
for each request, all competing for the GIL with the event loop. So the
writer offers each trace to :class:`Budget`, which keeps at most
``per_second × window`` ordinary traces per window (aligned ``window``-second
slices of the clock) and chooses, in this order:

1. **triggered** requests (``meta["triggered"]``: a valid trigger header
   forced the trace) — always kept;
2. **errors** (a 5xx, no response, an error root span) — kept as they come;
   they take the budget before ordinary traces do, and past one budget's
   worth of errors in a window (an error storm) the rest are dropped too;
3. **slow** requests (at least ``slow_ms``, or slower than the 99th percentile
   of the last ~1,000 requests) — the slowest first, up to half of what the
   budget has left;
4. a uniform random **sample** of the rest, filling the budget.

While a window has seen no more traces than its budget (a developer's box),
and the window before it did not overflow, every trace is kept at once
(reason ``"all"``, or ``"slow"`` / ``"error"`` / ``"triggered"`` when it is
one). Once a window overflows, ordinary traces wait
in two bounded pools (a reservoir sample and a heap of the slowest) and are
chosen when the window ends or a flush asks; errors and triggered requests
are still kept at once. A window keeps at most two budgets' worth of traces
(its first budget kept at once, then errors) plus the triggered ones; the
pools hold at most two budgets' worth of traces in memory.

Everything in :class:`Budget` runs on the writer thread. :class:`Admission`
runs in ``add()``, on the request's side, in O(1): once a window is past
its budget it lets most ordinary traces go at once (a random share, enough
to keep the writer's reservoir choosing over the whole window), because a
trace held for the writer even 50 ms survives into the oldest GC generation
and a server under load then pays for full collections (measured: ≈ 130 µs
per request on ``GET /health`` when every trace was held). The clock is
passed in (seconds), so tests drive it without sleeping.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import deque
from dataclasses import dataclass, field

from tracer.model import Trace

#: Why a trace was persisted, strongest first (the ``kept_because`` column).
TRIGGERED, ERROR, SLOW, ALL, SAMPLE = "triggered", "error", "slow", "all", "sample"
REASONS = (TRIGGERED, ERROR, SLOW, ALL, SAMPLE)
#: What a trace is, strongest first; ``REST`` is everything else.
REST = "rest"
KINDS = (TRIGGERED, ERROR, SLOW, REST)

DEFAULT_PER_SECOND = 20.0
DEFAULT_WINDOW = 5.0
DEFAULT_SLOW_MS = 500.0
#: Durations remembered for the slow percentile, and how many it needs first.
_HISTORY = 1024
_MIN_HISTORY = 100
_PERCENTILE = 0.99

Decision = tuple[Trace, str]


def classify(trace: Trace) -> tuple[str, int]:
    """``(kind without the slow test, duration_ns)`` in O(1) for the usual trace.

    The root is the first span in every trace the recorder builds; the
    duration is request start to response complete (the whole root without a
    response), as the store's ``duration_ns`` column says.
    """
    spans = trace.spans
    root = spans[0] if spans and spans[0].parent_id is None else None
    if root is None:
        root = next((s for s in spans if s.parent_id is None), None)
    if trace.meta.get("triggered") is True:
        kind = TRIGGERED
    else:
        status = trace.response.get("status_code")
        failed = status is None or int(status) >= 500
        kind = ERROR if failed or (root is not None and root.status == "error") else REST
    if root is None:
        return kind, 0
    end = trace.response_end_ns if trace.response_end_ns is not None else root.end_ns
    return kind, max(0, end - root.start_ns)


@dataclass
class WindowCounts:
    """What one window was offered and kept, by kind and by reason (persisted for ``list``)."""

    start_ns: int
    window_ns: int
    per_second: float | None
    offered: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    kept: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))

    def any(self) -> bool:
        return any(self.offered.values()) or any(self.kept.values())


class Budget:
    """The persistence policy; ``offer`` / ``settle`` / ``flush`` return what to write now.

    ``per_second=None`` keeps everything (still classified, reasons and
    counts recorded). ``rng`` makes the sample reproducible in tests.
    """

    def __init__(
        self,
        per_second: float | None = DEFAULT_PER_SECOND,
        *,
        window: float = DEFAULT_WINDOW,
        slow_ms: float | None = DEFAULT_SLOW_MS,
        rng: random.Random | None = None,
    ) -> None:
        if per_second is not None and per_second <= 0:
            raise ValueError(f"budget must be positive (or None: keep all), not {per_second}")
        if window <= 0:
            raise ValueError(f"window must be positive, not {window}")
        self.per_second = per_second
        self.window = window
        #: ordinary traces a window may keep
        self.allowance = math.inf if per_second is None else max(1, round(per_second * window))
        self._slow_ns = math.inf if slow_ms is None else int(slow_ms * 1e6)
        self._rng = rng or random.Random()
        self._history: deque[int] = deque(maxlen=_HISTORY)
        self._p99 = math.inf
        self._start = -math.inf
        self._end = -math.inf
        self._counts: WindowCounts | None = None
        self._loaded = False  # this window overflowed its budget
        self._loaded_until = -math.inf  # the end of the last window that overflowed
        self._seen = 0  # ordinary traces offered since the pools were last emptied
        self._pool: list[Trace] = []  # reservoir sample of the rest
        self._slowest: list[tuple[int, int, Trace]] = []  # min-heap of (duration, seq, trace)
        self._seq = itertools.count()
        self._delta: dict[int, WindowCounts] = {}  # counts not yet written, by window start
        self._dropped = 0

    # -- what the writer asks ----------------------------------------------------

    @property
    def dropped(self) -> int:
        """Traces this process did not persist because of the budget."""
        return self._dropped

    @property
    def holding(self) -> int:
        """Traces waiting in the pools for the window's end."""
        return len(self._pool) + len(self._slowest)

    def due(self) -> float | None:
        """When :meth:`settle` has work (clock seconds): the window's end, if anything waits."""
        if self.holding or self._delta:
            return self._end
        return None

    def closed(self) -> bool:
        """Whether counts of a window that is over wait to be written."""
        current = None if self._counts is None else self._counts.start_ns
        return any(start != current for start in self._delta)

    def reject(self, now: float) -> list[Decision]:
        """Count an ordinary trace :class:`Admission` let go (its window is over budget)."""
        out = self.settle(now)
        if self._counts is None:
            self._open(now)
        assert self._counts is not None
        self._count(self._counts, "offered", REST)
        self._loaded = True
        self._dropped += 1
        return out

    def is_ordinary(self, kind: str, duration: int) -> bool:
        """Neither triggered, nor an error, nor slow (read from any thread: benign races)."""
        return kind == REST and duration < self._slow_ns and duration <= self._p99

    def offer(self, trace: Trace, now: float) -> list[Decision]:
        """Count ``trace`` and say what to persist now (it, and a window that just ended)."""
        out = self.settle(now)
        if self._counts is None:
            self._open(now)
        counts = self._counts
        assert counts is not None
        kind, duration = classify(trace)
        self._history.append(duration)
        if kind == REST and (duration >= self._slow_ns or duration > self._p99):
            kind = SLOW
        self._count(counts, "offered", kind)
        total = sum(counts.offered.values())
        if kind == TRIGGERED:
            out.append(self._keep(trace, TRIGGERED))
        elif kind == ERROR:
            if counts.kept[ERROR] < self.allowance:
                out.append(self._keep(trace, ERROR))
            else:
                self._dropped += 1
        elif not self._loaded and total <= self.allowance:
            out.append(self._keep(trace, SLOW if kind == SLOW else ALL))
        else:
            self._loaded = True
            self._hold(trace, kind, duration)
        return out

    def settle(self, now: float) -> list[Decision]:
        """Close the window if ``now`` is past it (or before it: the clock went back)."""
        if self._counts is None or self._start <= now < self._end:
            return []
        out = self._choose()
        self._counts = None
        if self._loaded:
            self._loaded_until = self._end
        self._loaded = False
        return out

    def flush(self) -> list[Decision]:
        """Decide the waiting traces now (a flush or close is waiting); the window goes on."""
        return self._choose() if self._counts is not None else []

    def take_counts(self) -> list[WindowCounts]:
        """Counts since the last call, one entry per window (the writer adds them up in SQL)."""
        out = [c for c in self._delta.values() if c.any()]
        self._delta = {}
        return out

    # -- inside ------------------------------------------------------------------

    def _open(self, now: float) -> None:
        start = math.floor(now / self.window) * self.window
        self._start, self._end = start, start + self.window
        # right after a window that overflowed, this one is sampled from its first trace
        # (no first-come picks): a server under load stays under load
        self._loaded = math.isclose(self._loaded_until, start)
        self._counts = WindowCounts(int(start * 1e9), int(self.window * 1e9), self.per_second)
        if len(self._history) >= _MIN_HISTORY:
            ordered = sorted(self._history)
            self._p99 = ordered[min(len(ordered) - 1, int(len(ordered) * _PERCENTILE))]

    def _count(self, counts: WindowCounts, what: str, key: str) -> None:
        getattr(counts, what)[key] += 1
        delta = self._delta.get(counts.start_ns)
        if delta is None:
            delta = self._delta[counts.start_ns] = WindowCounts(
                counts.start_ns, counts.window_ns, counts.per_second
            )
        getattr(delta, what)[key] += 1

    def _keep(self, trace: Trace, reason: str) -> Decision:
        assert self._counts is not None
        self._count(self._counts, "kept", reason)
        return trace, reason

    def _hold(self, trace: Trace, kind: str, duration: int) -> None:
        """Into the bounded pools: the slowest ``allowance`` slow ones, a reservoir of the rest."""
        cap = self.allowance
        if kind == SLOW:
            entry = (duration, next(self._seq), trace)
            if len(self._slowest) < cap:
                heapq.heappush(self._slowest, entry)
            else:
                self._dropped += 1
                heapq.heappushpop(self._slowest, entry)
            return
        self._seen += 1
        if len(self._pool) < cap:
            self._pool.append(trace)
            return
        self._dropped += 1
        slot = self._rng.randrange(self._seen)  # Algorithm R: each of the seen equally likely
        if slot < cap:
            self._pool[slot] = trace

    def _choose(self) -> list[Decision]:
        """Fill what the budget has left: slow ones up to half, then the sample; drop the rest."""
        counts = self._counts
        assert counts is not None
        kept = counts.kept
        room = self.allowance - (kept[ERROR] + kept[ALL] + kept[SLOW] + kept[SAMPLE])
        left = int(max(0, min(room, self.holding)))  # finite even with no budget
        slowest = sorted(self._slowest, reverse=True)
        sample_share = min(len(self._pool), left // 2)
        n_slow = min(len(slowest), left - sample_share)
        n_sample = min(len(self._pool), left - n_slow)
        pool = self._pool
        chosen = self._rng.sample(pool, n_sample) if n_sample < len(pool) else pool
        out = [self._keep(t, SLOW) for _, _, t in slowest[:n_slow]]
        out += [self._keep(t, SAMPLE) for t in chosen]
        self._dropped += self.holding - len(out)
        self._pool, self._slowest, self._seen = [], [], 0
        return out


class Admission:
    """The request side: past the budget, let ordinary traces go before they are queued.

    Everything is admitted while the window has seen no more than its
    budget (and the one before did not overflow); past it, triggered
    requests, errors and slow ones always are, and an ordinary trace with
    probability ``2 × allowance / expected``, ``expected`` being the larger of
    the previous window's count and this one's so far: about two budgets'
    worth reach the writer's reservoir, spread over the window. O(1);
    a lost count under concurrent ``add()`` only shifts the share.
    """

    def __init__(self, budget: Budget, rng: random.Random) -> None:
        self._budget = budget
        self._rng = rng
        self._window: int | None = None
        self._count = 0
        self._previous = 0

    def admit(self, trace: Trace, now: float) -> bool:
        budget = self._budget
        if budget.per_second is None:
            return True
        window = math.floor(now / budget.window)
        if window != self._window:
            adjacent = self._window is not None and window == self._window + 1
            self._previous = self._count if adjacent else 0
            self._window, self._count = window, 0
        self._count += 1
        allowance = budget.allowance
        if self._count <= allowance and self._previous <= allowance:
            return True
        kind, duration = classify(trace)
        if not budget.is_ordinary(kind, duration):
            return True
        expected = max(self._previous, self._count)
        return self._rng.random() * expected < 2 * allowance
