"""The golden clock counts span boundaries, not readings: one more read changes no golden."""

from __future__ import annotations

from tests.golden.recording import record
from tests.golden.test_golden_demo import recorded
from tracer.capture.clock import BoundaryClock


def test_readings_between_boundaries_are_equal_and_time_never_goes_back() -> None:
    position: list[int | None] = [None]
    fake = BoundaryClock(lambda: position[0], start_ns=1_000, step_ns=10)
    assert fake() == fake() == 1_000
    position[0] = 3
    assert fake() == fake() == 1_030
    position[0] = None
    assert fake() == 1_030


def test_extra_clock_reads_in_the_hooks_change_no_timestamp() -> None:
    again, golden = record("post_users_201", extra_reads=2), recorded("post_users_201")
    assert again.response_end_ns == golden.response_end_ns
    # every span, with every time-derived attribute (waits, holds, request_ns)
    assert [s.to_dict() for s in again.spans] == [s.to_dict() for s in golden.spans]
