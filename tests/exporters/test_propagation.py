"""W3C trace context: which traceparent / tracestate headers continue the caller's trace."""

from __future__ import annotations

import pytest

from tracer.sinks.exporters.propagation import TraceParent, continued_trace, parse_traceparent

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"00-{TRACE}-{SPAN}-01", TraceParent(TRACE, SPAN, 1)),
        (f"00-{TRACE}-{SPAN}-00", TraceParent(TRACE, SPAN, 0)),
        (f" 00-{TRACE}-{SPAN}-01\t", TraceParent(TRACE, SPAN, 1)),  # optional whitespace
        (f"01-{TRACE}-{SPAN}-01-future", TraceParent(TRACE, SPAN, 1)),  # later version, more
        (f"01-{TRACE}-{SPAN}-01", TraceParent(TRACE, SPAN, 1)),
        (f"00-{TRACE}-{SPAN}-01-extra", None),  # version 00 has exactly four fields
        (f"01-{TRACE}-{SPAN}-01x", None),
        (f"ff-{TRACE}-{SPAN}-01", None),  # forbidden version
        (f"0g-{TRACE}-{SPAN}-01", None),
        (f"00-{TRACE.upper()}-{SPAN}-01", None),  # lowercase only
        (f"00-{'0' * 32}-{SPAN}-01", None),  # all-zero trace id
        (f"00-{TRACE}-{'0' * 16}-01", None),  # all-zero parent id
        (f"00-{TRACE[:-1]}-{SPAN}-01", None),
        (f"00-{TRACE}-{SPAN}-1", None),
        (f"00-{TRACE}-{SPAN}-zz", None),
        (f"00_{TRACE}_{SPAN}_01", None),
        ("", None),
        ("garbage", None),
    ],
)
def test_parse_traceparent(header: str, expected: TraceParent | None) -> None:
    assert parse_traceparent(header) == expected


def _headers(*pairs: tuple[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode()) for k, v in pairs]


def test_continued_trace_reads_raw_asgi_headers() -> None:
    found = continued_trace(
        _headers(
            ("host", "x"),
            ("traceparent", f"00-{TRACE}-{SPAN}-01"),
            ("tracestate", "congo=t61rcWkgMzE"),
            ("tracestate", "rojo=00f067aa0ba902b7"),
        )
    )
    assert found == (TraceParent(TRACE, SPAN, 1), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
    assert found[0].header == f"00-{TRACE}-{SPAN}-01"


@pytest.mark.parametrize(
    "headers",
    [
        _headers(("host", "x")),
        _headers(("traceparent", "00-bad-bad-01"), ("tracestate", "congo=1")),
        _headers(
            ("traceparent", f"00-{TRACE}-{SPAN}-01"), ("traceparent", f"00-{TRACE}-{SPAN}-01")
        ),
    ],
)
def test_absent_malformed_or_repeated_traceparent_is_ignored(
    headers: list[tuple[bytes, bytes]],
) -> None:
    assert continued_trace(headers) is None


def test_an_oversized_or_unprintable_tracestate_is_dropped() -> None:
    parent = ("traceparent", f"00-{TRACE}-{SPAN}-01")
    assert continued_trace(_headers(parent, ("tracestate", "a=" + "b" * 600))) == (
        TraceParent(TRACE, SPAN, 1),
        "",
    )
    assert continued_trace(_headers(parent, ("tracestate", "a=\x1b[31m"))) == (
        TraceParent(TRACE, SPAN, 1),
        "",
    )
