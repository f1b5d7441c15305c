"""The pure functions renderers build on: ordering, own time, step totals, lanes."""

from __future__ import annotations

from tracer.analysis.processors import (
    lanes,
    merge_intervals,
    own_intervals,
    self_time_ns,
    sorted_spans,
    step_totals,
)
from tracer.model import Span, Trace

from .sample_traces import SAMPLES, success_post_users, validation_422


def _span(sid: str, parent: str | None, start: int, end: int, step: int = 6) -> Span:
    return Span(sid, parent, sid, "handler", step, start, end)


def test_self_time_subtracts_the_union_of_overlapping_children_clipped_to_the_parent() -> None:
    trace = Trace(
        "t",
        [
            _span("p", None, 0, 100, step=1),
            _span("a", "p", 10, 50),
            _span("b", "p", 40, 70),  # overlaps a
            _span("c", "p", 90, 120),  # runs past its parent
        ],
    )
    own = self_time_ns(trace)
    assert own["p"] == 100 - 60 - 10
    assert own["a"] == 40
    assert own["c"] == 30
    assert step_totals(trace) == {1: 30, 6: 40 + 30 + 30}


def test_own_intervals_are_the_gaps() -> None:
    parent = _span("p", None, 0, 100)
    kids = [_span("a", "p", 10, 20), _span("b", "p", 15, 30), _span("c", "p", 50, 60)]
    assert own_intervals(parent, kids) == [(0, 10), (30, 50), (60, 100)]
    assert merge_intervals([(5, 5), (3, 4), (1, 3)]) == [(1, 4)]


def test_step_totals_are_own_time_grouped_by_step() -> None:
    trace = validation_422()
    totals = step_totals(trace)
    own = self_time_ns(trace)
    assert list(totals) == sorted(totals)
    assert sum(totals.values()) == sum(own.values())
    for step, total in totals.items():
        assert total == sum(own[s.span_id] for s in trace.spans if s.step == step)


def test_sorted_spans_is_depth_first_in_start_order() -> None:
    trace = success_post_users()
    order = sorted_spans(trace)
    assert order[0] is trace.root
    assert len(order) == len(trace.spans)
    position = {s.span_id: i for i, s in enumerate(order)}
    for span in trace.spans:
        if span.parent_id is not None:
            assert position[span.parent_id] < position[span.span_id]


def test_lanes_follow_call_depth_and_skip_untouched_phases() -> None:
    names = [lane.name for lane in lanes(success_post_users()).lanes]
    assert names == [
        "client",
        "server",
        "ServerError",
        "CORS",
        "request_id_and_timing",
        "GZip",
        "Exception",
        "Router",
        "Deps",
        "Validate",
        "Handler",
        "DB",
        "Serialize",
        "BgTask",
    ]
    stream = [lane.name for lane in lanes(SAMPLES["stream"]()).lanes]
    assert "Validate" not in stream
    assert "BgTask" not in stream


def test_folding_keeps_layers_that_built_the_response() -> None:
    lane_map = lanes(SAMPLES["404"](), fold_middleware=True)
    middleware = [lane for lane in lane_map.lanes if lane.kind == "middleware"]
    assert [lane.name for lane in middleware] == ["mw ×4", "Exception"]
    assert middleware[0].members[0] == "ServerErrorMiddleware"


def test_unreached_lanes_are_marked_for_failed_requests_only() -> None:
    failed = lanes(SAMPLES["422"]())
    assert [lane.name for lane in failed.lanes if not lane.reached] == ["Handler"]
    assert all(lane.reached for lane in lanes(success_post_users()).lanes)
