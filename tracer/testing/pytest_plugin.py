"""A pytest fixture to assert on the request lifecycle in your own tests.

    def test_listing_users_has_no_n_plus_one(trace_requests):
        client = TestClient(trace_requests(app))
        client.get("/users")
        trace_requests.last.assert_max_queries(2)
        trace_requests.last.assert_no_event_loop_blocking()
        trace_requests.last.assert_step_budget(6, ms=50)

A failed assertion's message ends with the request's sequence diagram, so the
CI log shows where the queries or the time went. Installed with the package
(entry point ``pytest11``); nothing to configure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tracer.capture.instrumentation import TraceCollector, capture, instrument, is_instrumented
from tracer.model import STEP_NAMES, Trace

DIAGRAM_WIDTH = 120


class TracedRequest:
    """One recorded request, with assertions whose failures show the diagram."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace

    # -- what happened -----------------------------------------------------------------

    def queries(self, matching: str | None = None) -> list[str]:
        """SQL statements executed, in order (optionally those containing ``matching``)."""
        statements = [
            str(s.attributes.get("db.statement", s.name))
            for s in sorted(self.trace.spans, key=lambda s: s.start_ns)
            if s.phase == "db" and "db.statement" in s.attributes
        ]
        if matching is None:
            return statements
        return [q for q in statements if matching.lower() in q.lower()]

    def findings(self) -> list[Any]:
        from tracer.analysis.diagnostics import diagnose

        return diagnose(self.trace)

    def step_time_ms(self, step: int) -> float:
        from tracer.analysis.explain import time_by_step

        return time_by_step(self.trace).get(step, 0) / 1e6

    # -- assertions ----------------------------------------------------------------------

    def assert_max_queries(self, limit: int, *, matching: str | None = None) -> None:
        """At most ``limit`` SQL statements (those containing ``matching`` if given)."""
        found = self.queries(matching)
        if len(found) > limit:
            what = f"statements containing {matching!r}" if matching else "SQL statements"
            listing = "\n".join(f"  {i + 1}. {q}" for i, q in enumerate(found))
            self._fail(f"{len(found)} {what}, expected at most {limit}:\n{listing}")

    def assert_no_event_loop_blocking(self, *, ms: float = 20.0) -> None:
        """No async handler or dependency held the event loop for ``ms`` or more."""
        from tracer.analysis.diagnostics import Thresholds, diagnose

        found = diagnose(self.trace, Thresholds(loop_block_ns=int(ms * 1e6)))
        blocked = [f for f in found if f.code == "event_loop_blocked"]
        if blocked:
            self._fail("\n".join(f"{f.title}: {f.detail}" for f in blocked))

    def assert_step_budget(self, step: int, *, ms: float) -> None:
        """Own time of ``step`` (1-10, children not counted) stays under ``ms``."""
        took = self.step_time_ms(step)
        if took > ms:
            name = STEP_NAMES.get(step, f"step {step}")
            self._fail(f"step {step} ({name}) took {took:.2f} ms, budget {ms:g} ms")

    def assert_no_findings(self, *codes: str) -> None:
        """No diagnostic finding (or none of ``codes``), e.g. ``"n_plus_one"``."""
        found = [f for f in self.findings() if not codes or f.code in codes]
        if found:
            self._fail("\n".join(f"[{f.code}] {f.title}: {f.detail}" for f in found))

    def _fail(self, message: str) -> None:
        from tracer.renderers import get_renderer

        diagram = get_renderer("sequence")(width=DIAGRAM_WIDTH, color=False).render(self.trace)
        root = self.trace.root
        pytest.fail(
            f"{root.name} → {self.trace.status_code}: {message}\n\n{diagram}", pytrace=False
        )


class RequestTracer:
    """The ``trace_requests`` fixture: instrument apps, collect their traces."""

    def __init__(self) -> None:
        self._collectors: list[TraceCollector] = []
        self._instrumented: list[Any] = []

    def __call__(self, app: Any, **options: Any) -> Any:
        """Instrument ``app`` (if it is not already) and collect its traces; returns it."""
        if not is_instrumented(app):
            instrument(app, **{"response_headers": False, "store": False, **options})
            self._instrumented.append(app)
        collector = capture(app)
        collector.__enter__()
        self._collectors.append(collector)
        return app

    @property
    def traces(self) -> list[TracedRequest]:
        ordered = sorted(
            (t for c in self._collectors for t in c.traces), key=lambda t: t.root.start_ns
        )
        return [TracedRequest(t) for t in ordered]

    @property
    def last(self) -> TracedRequest:
        traces = self.traces
        if not traces:
            pytest.fail("no request was traced: pass your app through trace_requests(app)")
        return traces[-1]

    def close(self) -> None:
        from tracer.capture.instrumentation import uninstrument

        for collector in self._collectors:
            collector.__exit__(None, None, None)
        for app in self._instrumented:
            uninstrument(app)


@pytest.fixture
def trace_requests() -> Iterator[RequestTracer]:
    """Trace the requests your test sends through ``trace_requests(app)``."""
    tracer_ = RequestTracer()
    try:
        yield tracer_
    finally:
        tracer_.close()
