"""A loop hold explained by a recorded garbage-collection pause is reported as such."""

from __future__ import annotations

from tests.diagnostics.build import MS, TraceBuilder, ns
from tracer.analysis.diagnostics import diagnose
from tracer.model import SpanEvent


def _handler_with_hold(gc_pause_ms: float | None) -> list[str]:
    builder = TraceBuilder()
    handler = builder.add(
        "list_things",
        "handler",
        6,
        1,
        60,
        attrs={
            "handler.kind": "async",
            "loop.max_hold_ns": 40 * MS,
            "loop.max_hold_offset_ns": 5 * MS,
        },
    )
    if gc_pause_ms is not None:
        handler.events.append(
            SpanEvent("gc", ns(20), {"gc.generation": 2, "gc.pause_ns": round(gc_pause_ms * MS)})
        )
    return [f.code for f in diagnose(builder.trace())]


def test_hold_mostly_garbage_collection_blames_the_collector() -> None:
    assert _handler_with_hold(35) == ["gc_pause"]


def test_hold_with_a_small_collection_still_blames_the_code() -> None:
    assert _handler_with_hold(5) == ["event_loop_blocked"]


def test_hold_without_collections_blames_the_code() -> None:
    assert _handler_with_hold(None) == ["event_loop_blocked"]
