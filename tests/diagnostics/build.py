"""Small hand-built traces for edge cases: times in milliseconds after ``T0``."""

from __future__ import annotations

from typing import Any

from tracer.model import Phase, Span, SpanEvent, Trace

T0 = 1_767_225_600_000_000_000
MS = 1_000_000


def ns(ms: float) -> int:
    return T0 + round(ms * MS)


class TraceBuilder:
    """A root ``GET /x`` span from 0 to ``end_ms``; add children with :meth:`add`."""

    def __init__(self, status: int | None = 200, end_ms: float = 100, **root_attrs: Any) -> None:
        self.spans: list[Span] = []
        self.status = status
        self.root = self.add("GET /x", "asgi", 1, 0, end_ms, None, {"http.route": "/x"})
        self.root.attributes.update(root_attrs)

    def add(
        self,
        name: str,
        phase: Phase,
        step: int,
        start_ms: float,
        end_ms: float,
        parent: Span | None = None,
        attrs: dict[str, Any] | None = None,
        *,
        raised: tuple[str, str] | None = None,
    ) -> Span:
        span = Span(
            span_id=f"{len(self.spans) + 1:016x}",
            parent_id=None if parent is None and not self.spans else (parent or self.root).span_id,
            name=name,
            phase=phase,
            step=step,
            start_ns=ns(start_ms),
            end_ns=ns(end_ms),
            attributes=dict(attrs or {}),
        )
        if raised is not None:
            span.status = "error"
            span.events.append(
                SpanEvent(
                    "exception",
                    span.end_ns,
                    {"exception.type": raised[0], "exception.message": raised[1]},
                )
            )
        self.spans.append(span)
        return span

    def trace(self, response_end_ms: float | None = None) -> Trace:
        end = None if response_end_ms is None else ns(response_end_ms)
        if response_end_ms is None and self.status is not None:
            end = self.root.end_ns
        return Trace(
            trace_id="0" * 32,
            spans=list(self.spans),
            request={"method": "GET", "path": "/x"},
            response={"status_code": self.status},
            response_end_ns=end,
        )
