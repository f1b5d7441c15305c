"""The one index every renderer reads (ordering, own time, step totals, layers), and lanes."""

from __future__ import annotations

from tracer.analysis.index import analyse, build_index, merge_intervals, own_intervals
from tracer.analysis.processors import lanes
from tracer.model import Span, Trace

from .sample_traces import SAMPLES, success_post_users, validation_422


def _span(sid: str, parent: str | None, start: int, end: int, step: int = 6) -> Span:
    return Span(sid, parent, sid, "handler", step, start, end)


def test_each_instant_has_one_owner_the_innermost_span_that_started_last() -> None:
    trace = Trace(
        "t",
        [
            _span("p", None, 0, 100, step=1),
            _span("a", "p", 10, 50),
            _span("b", "p", 40, 70),  # overlaps a: 40-50 goes to b, which started last
            _span("c", "p", 90, 120),  # runs past its parent
        ],
    )
    index = analyse(trace)
    own = index.own_ns
    assert own["p"] == 100 - 60 - 10  # p is work here (a handler root), not structural
    assert own["a"] == 30
    assert own["b"] == 30
    assert own["c"] == 30
    assert dict(index.step_ns) == {**dict.fromkeys(range(1, 11), 0), 1: 30, 6: 30 + 30 + 30}
    assert sum(index.step_ns.values()) + index.untraced_ns == index.extent_ns == 120


def test_own_time_is_never_negative_even_for_children_wider_than_their_parent() -> None:
    trace = Trace("t", [_span("p", None, 10, 20, step=1), _span("a", "p", 0, 30)])
    assert analyse(trace).own_ns == {"p": 0, "a": 30}


def test_a_send_under_the_root_stops_the_route_span_s_clock() -> None:
    """Uvicorn's send is parented to the root, but the route span is awaiting it."""
    trace = Trace(
        "t",
        [
            Span("r", None, "GET /x", "asgi", 1, 0, 100),
            Span("route", "r", "route /x", "routing", 3, 10, 90),
            Span("h", "route", "h", "handler", 6, 20, 40),
            Span("s", "r", "send http.response.start", "send", 9, 50, 70),
        ],
    )
    index = analyse(trace)
    assert index.own_ns["s"] == 20
    assert index.own_ns["route"] == 0  # structural: its uncovered time is untraced
    gaps = [(g.start_ns, g.end_ns, g.parent_id) for g in index.untraced]
    assert gaps == [
        (0, 10, "r"),
        (10, 20, "route"),
        (40, 50, "route"),
        (70, 90, "route"),
        (90, 100, "r"),
    ]
    assert sum(index.step_ns.values()) + index.untraced_ns == 100


def test_a_span_carrying_gap_cause_is_a_named_gap_not_work() -> None:
    trace = Trace(
        "t",
        [
            Span("r", None, "GET /x", "asgi", 1, 0, 100),
            Span(
                "i",
                "r",
                "inspect",
                "routing",
                3,
                10,
                40,
                attributes={"gap.cause": "endpoint inspection", "gap.first_call": True},
            ),
        ],
    )
    index = analyse(trace)
    named = [g for g in index.untraced if g.name]
    assert [(g.start_ns, g.end_ns, g.label) for g in named] == [
        (10, 40, "endpoint inspection (first call)")
    ]
    assert index.step_ns[3] == 0


def test_own_intervals_are_the_gaps() -> None:
    parent = _span("p", None, 0, 100)
    kids = [_span("a", "p", 10, 20), _span("b", "p", 15, 30), _span("c", "p", 50, 60)]
    assert own_intervals(parent, kids) == [(0, 10), (30, 50), (60, 100)]
    assert merge_intervals([(5, 5), (3, 4), (1, 3)]) == [(1, 4)]


def test_step_totals_are_own_time_grouped_by_step() -> None:
    trace = validation_422()
    index = analyse(trace)
    totals, own = index.step_ns, index.own_ns
    assert list(totals) == list(range(1, 11))
    assert sum(totals.values()) == sum(own.values())
    parts = index.own_by_step
    for step, total in totals.items():
        assert total == sum(
            parts[s.span_id].get(step, 0) for s in trace.spans if s.span_id in parts
        )
    # a layer's way in is step 2 (its span's step), what it does after its inner app was
    # entered is step 8; every other span counts under its own step
    for span in trace.spans:
        if index.is_structural(span):
            assert span.span_id not in parts and index.own_ns[span.span_id] == 0
            continue
        assert set(parts[span.span_id]) <= ({2, 8} if span in index.layers else {span.step})


def test_a_layer_splits_its_own_time_into_way_in_and_way_out() -> None:
    layer = Span("l", "r", "CORSMiddleware", "middleware", 2, 10, 90)
    trace = Trace(
        "t",
        [
            Span("r", None, "GET /x", "asgi", 1, 0, 100),
            layer,
            Span("h", "l", "router", "routing", 3, 25, 70),
            Span("o", "l", "CORSMiddleware response", "middleware", 8, 60, 65),
        ],
    )
    index = analyse(trace)
    assert dict(index.own_by_step["l"]) == {2: 15, 8: 20}
    assert index.layer_in_ns(layer) == 15
    assert index.step_ns[2] == 15
    assert index.step_ns[8] == 20 + 5
    assert [s.name for s in index.layers] == ["CORSMiddleware"]
    assert [s.name for s in index.user_layers()] == ["CORSMiddleware"]


def test_the_index_is_built_once_per_trace_and_rebuilt_after_an_edit() -> None:
    trace = success_post_users()
    first = analyse(trace)
    assert analyse(trace) is first
    assert analyse(success_post_users()) is not first  # an equal but different trace
    trace.spans[-1].end_ns += 1
    again = analyse(trace)
    assert again is not first
    assert again.own_ns == build_index(trace).own_ns


def test_tree_order_is_depth_first_in_start_order() -> None:
    trace = success_post_users()
    order = analyse(trace).ordered
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
