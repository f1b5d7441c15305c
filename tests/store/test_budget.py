"""What the store persists under load: the budget's choice, with a fake clock (no sleeps)."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.store.conftest import MS, make_trace
from tracer.model import Trace
from tracer.sinks.store import TraceStore
from tracer.sinks.store.budget import Admission, Budget, Decision, classify

Opener = Callable[..., TraceStore]


class FakeClock:
    """Wall-clock seconds that move only when a test says so."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def traffic(n: int, *, errors: int = 0, triggered: int = 0) -> list[Trace]:
    """``n`` traces; ``errors`` 500s and ``triggered`` forced ones spread evenly through them."""
    traces = [make_trace(i) for i in range(n)]
    for k in range(errors):
        traces[(2 * k + 1) * n // (2 * errors)].response["status_code"] = 500
    for k in range(triggered):
        traces[(2 * k + 1) * n // (2 * triggered) + 1].meta["triggered"] = True
    return traces


def reasons(decisions: list[Decision]) -> Counter[str]:
    return Counter(reason for _, reason in decisions)


def offer_all(budget: Budget, traces: list[Trace], now: float) -> list[Decision]:
    out: list[Decision] = []
    for trace in traces:
        out += budget.offer(trace, now)
    return out


# -- the policy -------------------------------------------------------------------------------


def test_classify_precedence_and_duration() -> None:
    trace = make_trace(1)
    assert classify(trace) == ("rest", 4 * MS)  # request start to response complete
    trace.response["status_code"] = 503
    assert classify(trace)[0] == "error"
    trace.meta["triggered"] = True
    assert classify(trace)[0] == "triggered"  # the strongest reason wins
    assert classify(make_trace(2, status=None)) == ("error", 5 * MS)  # no response: the root
    assert classify(make_trace(3, failed=True))[0] == "error"


def test_everything_is_kept_at_low_traffic() -> None:
    budget = Budget(20, window=5.0, rng=random.Random(1))
    kept: list[Decision] = []
    for i in range(600):  # 10 a second for a minute, an error now and then
        trace = make_trace(i, status=500 if i % 50 == 0 else 200)
        kept += budget.offer(trace, 1000.0 + i / 10)
    kept += budget.settle(2000.0)
    assert len(kept) == 600 and budget.dropped == 0
    assert reasons(kept) == {"all": 588, "error": 12}
    counts = budget.take_counts()
    assert sum(sum(c.offered.values()) for c in counts) == 600
    assert sum(sum(c.kept.values()) for c in counts) == 600


def test_errors_and_triggered_are_kept_under_load() -> None:
    """10,000 traces in one simulated second against 50 a second: the budget holds."""
    budget = Budget(50, window=1.0, rng=random.Random(7))
    traces = traffic(10_000, errors=30, triggered=10)
    kept = offer_all(budget, traces, 100.25)
    assert reasons(kept) == {"all": 50, "error": 30, "triggered": 10}  # the sample waits
    assert budget.holding == 50  # bounded: one budget's worth of the rest, in a reservoir
    kept += budget.settle(101.0)  # the window ends: nothing left of its 50 for a sample
    chosen = {t.trace_id for t, _ in kept}
    wanted = {t.trace_id for t in traces if t.response["status_code"] == 500}
    wanted |= {t.trace_id for t in traces if t.meta.get("triggered")}
    assert wanted <= chosen
    assert len(kept) == 90
    assert budget.dropped == 10_000 - 90


def test_the_sample_is_bounded_and_spread_over_the_window() -> None:
    budget = Budget(50, window=1.0, rng=random.Random(3))
    offer_all(budget, traffic(200), 9.5)  # an overloaded window: the next starts loaded
    budget.settle(10.0)
    traces = traffic(5_000, errors=10)
    kept = offer_all(budget, traces, 10.5)
    assert reasons(kept) == {"error": 10}  # loaded from the start: nothing kept blindly
    kept += budget.flush()  # a flush decides now, within what is left
    assert reasons(kept) == {"error": 10, "sample": 40}
    order = {t.trace_id: i for i, t in enumerate(traces)}
    positions = sorted(order[t.trace_id] for t, r in kept if r == "sample")
    assert positions[0] < 1_000 and positions[-1] > 4_000  # not just the first ones
    assert budget.flush() == []  # the window's budget is spent
    more = offer_all(budget, traffic(100), 10.9) + budget.settle(11.0)
    assert reasons(more) == {}
    assert budget.dropped == 200 - 50 + 5_000 - 50 + 100


def test_slowest_first_up_to_half_of_what_is_left() -> None:
    budget = Budget(20, window=1.0, slow_ms=100, rng=random.Random(5))
    offer_all(budget, traffic(100), 49.5)  # the window before overflowed
    traces = traffic(1_000)
    for i, trace in enumerate(traces[::10]):  # 100 slow ones, 100 ms + i ms
        trace.response_end_ns = trace.root.start_ns + (100 + i) * MS
    kept = offer_all(budget, traces, 50.5) + budget.settle(51.0)
    assert reasons(kept) == {"slow": 10, "sample": 10}
    slow = sorted(classify(t)[1] for t, r in kept if r == "slow")
    assert slow == [(100 + i) * MS for i in range(90, 100)]  # the slowest ten


def test_an_error_storm_is_bounded_too() -> None:
    budget = Budget(10, window=1.0, rng=random.Random(2))
    storm = [make_trace(i, status=500) for i in range(1_000)]
    kept = offer_all(budget, storm, 5.0) + budget.settle(6.0)
    assert reasons(kept) == {"error": 10}  # errors take the budget first, and only the budget
    (counts,) = budget.take_counts()
    assert counts.offered["error"] == 1_000 and counts.kept["error"] == 10


def test_no_budget_keeps_everything_and_still_says_why() -> None:
    budget = Budget(None)
    kept = offer_all(budget, traffic(5_000, errors=5), 1.0) + budget.settle(10.0)
    assert reasons(kept) == {"all": 4_995, "error": 5} and budget.dropped == 0


def test_bad_budgets_are_refused() -> None:
    with pytest.raises(ValueError, match="budget must be positive"):
        Budget(0)
    with pytest.raises(ValueError, match="budget must be positive"):
        TraceStore(budget=-1)


# -- the store --------------------------------------------------------------------------------


def test_store_under_load_persists_errors_triggered_and_counts(open_store: Opener) -> None:
    clock = FakeClock()
    store = open_store(budget=50, budget_window=1.0, clock=clock, seed=11, queue_size=20_000)
    traces = traffic(10_000, errors=30, triggered=10)
    for trace in traces:
        store.add(trace)
    assert store.flush(30)
    rows = store.list(1_000)
    by_reason = Counter(r.kept_because for r in rows)
    assert by_reason == {"all": 50, "error": 30, "triggered": 10}
    assert {r.trace_id for r in rows if r.kept_because == "error"} == {
        t.trace_id for t in traces if t.response["status_code"] == 500
    }
    assert (store.written, store.dropped, store.budget_dropped) == (90, 0, 9_910)
    stats = store.budget_stats()
    assert stats is not None
    assert (stats.total_offered, stats.total_kept, stats.dropped) == (10_000, 90, 9_910)
    assert stats.describe() == (
        "kept 90 of 10,000 traces in the last minute: all 30 errors, all 10 triggered "
        "requests, none of the other 9,910 (budget 50/s per process)"
    )


def test_a_trace_not_persisted_is_still_found_in_this_process(open_store: Opener) -> None:
    store = open_store(budget=1, budget_window=1.0, clock=FakeClock(), seed=1)
    first, second = make_trace(1), make_trace(2)
    store.add(first)  # the window's budget
    store.add(second)  # past it: admitted (a share of two budgets), sampled, not persisted
    assert store.flush()
    assert [r.trace_id for r in store.list()] == [first.trace_id]
    assert store.get(second.trace_id) is second  # in this process's memory
    assert TraceStore(store.path).get(second.trace_id) is None  # another reader: not in the file


def test_admission_lets_ordinary_traces_go_but_never_errors() -> None:
    """Past the budget most ordinary traces are never queued (held, they would cost GC)."""
    admission = Admission(Budget(10, window=1.0), random.Random(4))
    first = sum(admission.admit(t, 500.5) for t in traffic(5_000))
    traces = traffic(5_000, errors=40, triggered=5)
    admitted = [t for t in traces if admission.admit(t, 501.5)]  # a second window as busy
    assert first < 10 + 2 * 10 * 10  # ≈ 2 budgets × ln(5,000 / 10) at most while learning the rate
    assert 10 <= len(admitted) - 45 <= 40  # then ≈ two budgets' worth of the rest
    assert sum(t.response["status_code"] == 500 for t in admitted) == 40
    assert sum(bool(t.meta.get("triggered")) for t in admitted) == 5


def test_traces_let_go_are_counted(open_store: Opener) -> None:
    clock = FakeClock(500.0)
    store = open_store(budget=10, budget_window=1.0, clock=clock, seed=4, queue_size=20_000)
    for trace in traffic(5_000, errors=40):
        store.add(trace)
    assert store.flush()
    stats = store.budget_stats()
    assert stats is not None and stats.total_offered == 5_000
    assert (stats.offered["error"], stats.kept["error"]) == (40, 10)  # the storm cap: one budget
    assert store.budget_dropped == 5_000 - stats.total_kept


def _v1_file(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE traces (trace_id TEXT PRIMARY KEY, started_ns INTEGER, method TEXT,"
        " path TEXT, route TEXT, status INTEGER, duration_ns INTEGER, span_count INTEGER,"
        " error INTEGER, document BLOB)"
    )
    conn.execute("INSERT INTO traces VALUES ('ab', 1, 'GET', '/old', NULL, 200, 5, 3, 0, x'00')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    path.chmod(0o600)


def test_a_version_1_file_is_read_and_then_migrated(open_store: Opener, db_path: Path) -> None:
    _v1_file(db_path)
    reader = TraceStore(db_path)
    (old,) = reader.list()
    assert (old.path, old.kept_because) == ("/old", None)
    assert reader.budget_stats() is None
    reader.close()
    store = open_store()
    store.add(make_trace(1))
    assert store.flush() and store.written == 1
    assert [(r.path, r.kept_because) for r in TraceStore(db_path).list()] == [
        ("/items/1", "all"),
        ("/old", None),
    ]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2


def test_a_newer_file_is_left_alone(open_store: Opener, db_path: Path) -> None:
    _v1_file(db_path)
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA user_version = 3")
    store = open_store()
    store.add(make_trace(1))
    assert store.flush()
    assert (store.written, store.dropped) == (0, 1)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        assert conn.execute("SELECT count(*) FROM traces").fetchone()[0] == 1
