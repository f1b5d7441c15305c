"""Outbound findings on hand-built traces (ms on a fake clock): examples, counter-examples."""

from __future__ import annotations

from typing import Any

from tests.diagnostics.build import MS, TraceBuilder
from tracer.analysis.concurrency import parallel_groups
from tracer.analysis.diagnostics import Thresholds, diagnose
from tracer.analysis.invariants import check
from tracer.model import Span, Trace


def call(
    b: TraceBuilder,
    parent: Span,
    start: float,
    end: float,
    host: str = "inventory.internal",
    path: str = "/stock/…",
    raised: tuple[str, str] | None = None,
    **attrs: Any,
) -> Span:
    url = f"http://{host}{path}"
    base = {"http.request.method": "GET", "url.full": url, "server.address": host}
    name = f"GET {host}{path}"
    return b.add(name, "outbound", 6, start, end, parent, {**base, **attrs}, raised=raised)


def handler(b: TraceBuilder, start: float = 10, end: float = 90) -> Span:
    return b.add("quote", "handler", 6, start, end)


def codes(trace: Trace, limits: Thresholds | None = None) -> list[str]:
    return [f.code for f in diagnose(trace, limits)]


# -- slow ----------------------------------------------------------------------------------


def test_a_call_over_the_threshold_is_slow_and_named_by_host_and_template() -> None:
    b = TraceBuilder(end_ms=400)
    h = handler(b, 10, 390)
    call(b, h, 20, 320, **{"http.response.status_code": 200, "outbound.ttfb_ns": 290 * MS})
    (finding,) = [f for f in diagnose(b.trace()) if f.code == "outbound_slow"]
    assert finding.title == "call to inventory.internal took 300.0 ms"
    assert finding.evidence["url"] == "http://inventory.internal/stock/…"
    assert finding.evidence["ttfb_ns"] == 290 * MS
    assert "290.0 ms until the response headers arrived" in finding.detail


def test_a_call_under_the_threshold_is_not_slow() -> None:
    b = TraceBuilder(end_ms=400)
    call(b, handler(b, 10, 390), 20, 269)
    assert "outbound_slow" not in codes(b.trace())
    assert "outbound_slow" in codes(b.trace(), Thresholds(outbound_slow_ns=200 * MS))


# -- failing -------------------------------------------------------------------------------


def test_a_5xx_answer_that_failed_the_request_is_an_error() -> None:
    b = TraceBuilder(status=502)
    s = call(b, handler(b), 20, 30, **{"http.response.status_code": 503, "error.type": "503"})
    s.status = "error"
    (finding,) = [f for f in diagnose(b.trace()) if f.code == "outbound_failed"]
    assert (finding.severity, finding.title) == ("error", "call to inventory.internal answered 503")
    assert finding.span_id == s.span_id


def test_a_timeout_the_app_handled_is_info_and_says_timeout() -> None:
    b = TraceBuilder()
    s = call(b, handler(b), 20, 70, raised=("ReadTimeout", "timed out"))
    s.attributes.update({"error.type": "ReadTimeout", "outbound.timeout": True})
    (finding,) = [f for f in diagnose(b.trace()) if f.code == "outbound_failed"]
    assert finding.severity == "info"
    assert finding.title == "call to inventory.internal timed out (ReadTimeout) after 50.0 ms"
    assert finding.evidence["timeout"] is True


def test_a_successful_call_is_no_failure() -> None:
    b = TraceBuilder()
    call(b, handler(b), 20, 30, **{"http.response.status_code": 200})
    assert "outbound_failed" not in codes(b.trace())


# -- sequential calls that could have run concurrently ------------------------------------


def test_back_to_back_calls_to_different_urls_are_named_with_their_evidence() -> None:
    b = TraceBuilder()
    h = handler(b)
    call(b, h, 20, 40)
    call(b, h, 40.5, 70, host="pricing.internal", path="/prices/…")
    (finding,) = [f for f in diagnose(b.trace()) if f.code == "sequential_calls"]
    assert finding.title == "2 calls from quote ran one after another"
    assert finding.evidence["serial_ns"] == 49_500_000
    assert finding.evidence["concurrent_ns"] == 29_500_000
    assert finding.evidence["gaps_ns"] == [500_000]
    assert finding.evidence["hosts"] == ["inventory.internal", "pricing.internal"]
    assert "no query or other call between them" in finding.detail


def test_calls_that_overlap_are_not_sequential() -> None:
    b = TraceBuilder()
    h = handler(b)
    call(b, h, 20, 40)
    call(b, h, 25, 70, host="pricing.internal", path="/prices/…")
    trace = b.trace()
    assert "sequential_calls" not in codes(trace)
    (group,) = parallel_groups(trace)
    assert (group.width, group.busy_ns, group.serial_ns) == (2, 50 * MS, 65 * MS)
    assert check(trace, unnamed_gap_ns=1 << 62) == []  # counted once: steps + untraced add up


def test_a_single_call_is_not_sequential() -> None:
    b = TraceBuilder()
    call(b, handler(b), 20, 70)
    assert "sequential_calls" not in codes(b.trace())


def test_a_db_read_between_the_calls_breaks_the_chain() -> None:
    b = TraceBuilder()
    h = handler(b)
    call(b, h, 20, 40)
    b.add("SELECT items", "db", 6, 40.2, 40.8, h, {"db.statement": "SELECT * FROM items"})
    call(b, h, 41, 70, host="pricing.internal", path="/prices/…")
    assert "sequential_calls" not in codes(b.trace())


def test_the_callers_own_work_between_the_calls_breaks_the_chain() -> None:
    b = TraceBuilder()
    h = handler(b)
    call(b, h, 20, 40)
    call(b, h, 45, 70, host="pricing.internal", path="/prices/…")  # 5 ms of the handler's code
    assert "sequential_calls" not in codes(b.trace())


def test_the_same_url_again_is_no_candidate() -> None:
    b = TraceBuilder()
    h = handler(b)
    call(b, h, 20, 40)
    call(b, h, 40.5, 70)
    assert "sequential_calls" not in codes(b.trace())


def test_calls_from_different_spans_are_no_chain() -> None:
    b = TraceBuilder()
    dep = b.add("get_stock", "dependency", 4, 10, 41)
    call(b, dep, 20, 40)
    call(b, handler(b, 41, 90), 41.5, 70, host="pricing.internal", path="/prices/…")
    assert "sequential_calls" not in codes(b.trace())


def test_a_small_saving_is_not_worth_a_finding() -> None:
    b = TraceBuilder()
    h = handler(b)
    call(b, h, 20, 21)
    call(b, h, 21.2, 60, host="pricing.internal", path="/prices/…")  # saves 1 ms at best
    assert "sequential_calls" not in codes(b.trace())


# -- parallel work is recognised as such ---------------------------------------------------


def test_a_statement_inside_a_pool_checkout_is_not_parallel() -> None:
    b = TraceBuilder()
    h = handler(b)
    b.add("pool checkout", "db", 6, 20, 30, h)
    b.add("SELECT 1", "db", 6, 22, 25, h, {"db.statement": "SELECT 1"})
    assert parallel_groups(b.trace()) == []


def test_two_sessions_in_two_tasks_are_one_parallel_group() -> None:
    b = TraceBuilder()
    h = handler(b)
    for start in (20, 21):  # the tasks interleave: each call overlaps the other task's
        b.add("pool checkout", "db", 6, start, start + 2 + (start - 20), h)
        b.add(
            "SELECT users", "db", 6, start + 3 + (start - 20), start + 10, h, {"db.statement": "S"}
        )
    (group,) = parallel_groups(b.trace())
    assert (len(group.spans), group.width) == (4, 2)
