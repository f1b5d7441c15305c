"""The response start inside a layer's ``send`` code is that layer's way out (step 8).

The route that sent it is still open, and deeper than the layer, so "the
innermost open span owns the instant" alone would give those instants to the
route (a structural span: untraced). They belong to the layer's
``'<layer> response'`` span, as a ``send`` at the server edge belongs to itself.
Real clocks are needed to see it (the golden recordings' fake clock gives these
spans no duration), so the trace is built by hand with real-looking times.
"""

from __future__ import annotations

from tracer.analysis.index import analyse
from tracer.model import Span, Trace

US = 1_000


def _span(
    span_id: str, parent: str | None, name: str, phase: str, step: int, start: int, end: int
) -> Span:
    return Span(span_id, parent, name, phase, step, start * US, end * US)  # type: ignore[arg-type]


def _trace() -> Trace:
    spans = [
        _span("root", None, "POST /users", "asgi", 1, 0, 1000),
        _span("cors", "root", "CORSMiddleware", "middleware", 2, 10, 990),
        _span("rid", "cors", "request_id_and_timing", "middleware", 2, 20, 980),
        _span("router", "rid", "router", "routing", 3, 30, 970),
        _span("route", "router", "route /users", "routing", 3, 40, 960),
        _span("handler", "route", "create_user", "handler", 6, 50, 700),
        # the route sends the response start at 710; it crosses request_id_and_timing's
        # send code (110 µs: headers added after call_next) and CORS's (20 µs)
        _span("rid-out", "rid", "request_id_and_timing response", "middleware", 8, 710, 820),
        _span("cors-out", "cors", "CORSMiddleware response", "middleware", 8, 820, 840),
        _span("send", "root", "send http.response.start", "send", 9, 840, 850),
    ]
    return Trace("t" * 32, spans, {"method": "POST"}, {"status_code": 201}, 850 * US, {})


def test_the_way_out_is_step_8_not_the_still_open_route() -> None:
    index = analyse(_trace())
    assert index.own_ns["rid-out"] == 110 * US
    assert index.own_ns["cors-out"] == 20 * US
    # plus each layer's own 10 µs after its inner app returned (970-980, 980-990)
    assert index.step_ns[8] == (110 + 20 + 10 + 10) * US
    for gap in index.untraced:
        assert gap.end_ns <= 710 * US or gap.start_ns >= 840 * US, gap


def test_everything_still_adds_up() -> None:
    index = analyse(_trace())
    assert sum(index.step_ns.values()) + index.untraced_ns == index.extent_ns
