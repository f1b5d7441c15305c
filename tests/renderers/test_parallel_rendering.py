"""Outbound calls get an External lane (or one per host); parallel calls are drawn as such."""

from __future__ import annotations

from tests.diagnostics.build import TraceBuilder
from tracer.analysis.processors import lanes
from tracer.model import Trace
from tracer.renderers import get_renderer


def _trace(hosts: list[str], *, overlap: bool) -> Trace:
    b = TraceBuilder()
    handler = b.add("quote", "handler", 6, 10, 90)
    start = 20.0
    for host in hosts:
        end = start + 30
        attrs = {
            "http.request.method": "GET",
            "url.full": f"http://{host}/x",
            "server.address": host,
            "http.response.status_code": 200,
            "http.response.body.size": 42,
        }
        b.add(f"GET {host}/x", "outbound", 6, start, end, handler, attrs)
        start = start + 5 if overlap else end
    return b.trace()


def render(trace: Trace, name: str, ascii: bool = False) -> str:
    return get_renderer(name)(width=100, color=False, ascii=ascii).render(trace)


def test_one_host_is_the_external_lane() -> None:
    trace = _trace(["inventory.internal"], overlap=False)
    outbound = [lane for lane in lanes(trace).lanes if lane.kind == "outbound"]
    assert [lane.name for lane in outbound] == ["External"]
    text = render(trace, "sequence")
    assert "External" in text
    assert "GET inventory.internal/x ⇒ 200 · 42 B" in text
    assert "∥" not in text  # one call: nothing in parallel


def test_a_few_hosts_get_a_lane_each_many_share_one() -> None:
    few = lanes(_trace(["inventory.internal", "pricing.internal"], overlap=False))
    assert [lane.name for lane in few.lanes if lane.kind == "outbound"] == ["inventory", "pricing"]
    many = lanes(_trace([f"s{n}.internal" for n in range(4)], overlap=False))
    assert [lane.name for lane in many.lanes if lane.kind == "outbound"] == ["External"]


def test_overlapping_calls_are_marked_and_announced_sequential_ones_are_not() -> None:
    parallel = render(_trace(["a.internal", "b.internal"], overlap=True), "sequence")
    assert "◇ ∥ 2 at once · 35.0ms (60.0ms one by one)" in parallel
    assert parallel.count("∥ GET") == 2
    sequential = render(_trace(["a.internal", "b.internal"], overlap=False), "sequence")
    assert "∥" not in sequential


def test_the_waterfall_draws_overlapping_bars() -> None:
    trace = _trace(["a.internal", "b.internal"], overlap=True)
    text = render(trace, "waterfall")
    first = next(line for line in text.splitlines() if "GET a.internal" in line)
    second = next(line for line in text.splitlines() if "GET b.internal" in line)
    assert "═" in first  # running while the later call owns the instant
    shared = [  # columns both bars cover
        i for i, (x, y) in enumerate(zip(first, second, strict=False)) if x in "█═▐▕" and y in "█▐▕"
    ]
    assert shared
    assert "beside a parallel call" in text
    ascii_text = render(trace, "waterfall", ascii=True)
    assert "=" in ascii_text and "═" not in ascii_text
    assert "||" in render(trace, "sequence", ascii=True)
