"""``invariants.check``: silent on sound traces (the golden demo recordings), loud on bad ones."""

from __future__ import annotations

import pytest

from tests.diagnostics.build import TraceBuilder
from tests.golden.recording import SCENARIOS
from tests.golden.test_golden_demo import recorded
from tracer.analysis.invariants import UNNAMED_GAP_NS, check
from tracer.model import Span, Trace


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_golden_demo_recording_is_sound(scenario: str) -> None:
    assert check(recorded(scenario)) == []


def test_a_hand_built_request_with_a_send_under_the_root_is_sound() -> None:
    b = TraceBuilder(end_ms=8)
    route = b.add("route /x", "routing", 3, 0.1, 7.9)
    b.add("h", "handler", 6, 0.2, 5.5, route)
    b.add("send http.response.start", "send", 9, 6, 7.5)  # under the root, route still open
    assert check(b.trace()) == []


def test_an_unnamed_gap_from_the_threshold_is_reported_and_a_named_one_is_not() -> None:
    b = TraceBuilder(end_ms=10)
    route = b.add("route /x", "routing", 3, 0, 10)
    b.add("h", "handler", 6, 0, 10 - UNNAMED_GAP_NS / 1e6, route)
    (violation,) = check(b.trace())
    assert violation.startswith("unnamed untraced gap of 1.00 ms in 'route /x'")
    b.add("inspect", "routing", 3, 9, 10, route, {"gap.cause": "endpoint inspection"})
    assert check(b.trace()) == []
    assert check(b.trace(), unnamed_gap_ns=2 * UNNAMED_GAP_NS) == []


def test_a_child_outliving_its_parent_and_negative_time_are_reported() -> None:
    b = TraceBuilder(end_ms=10)
    handler = b.add("h", "handler", 6, 1, 5)
    b.add("late", "db", 6, 4, 8, handler)
    backwards = b.add("backwards", "db", 6, 3, 2, handler)
    problems = check(b.trace())
    assert "'late' ends 3000000 ns after its parent 'h'" in problems
    assert any(p.startswith(f"{backwards.name!r} ends") for p in problems)


def test_accounting_that_does_not_add_up_is_reported() -> None:
    b = TraceBuilder(end_ms=10)
    b.add("h", "handler", 6, 5, 12)  # runs 2 ms past the root: counted, but not in the root
    problems = check(b.trace())
    assert any(p.startswith("steps + untraced = 12000000 ns") for p in problems)
    assert any("ends 2000000 ns after its parent" in p for p in problems)


def test_two_roots_are_reported() -> None:
    spans = [Span("a", None, "a", "asgi", 1, 0, 10), Span("b", None, "b", "asgi", 1, 0, 10)]
    assert "2 root spans (expected exactly one)" in check(Trace("t", spans))
