"""The dependency whose own call is running in the caller's frame right now.

FastAPI calls a dependency in the *caller's* frame, after the recursive
``solve_dependencies`` for it returned: that call's span stays open
("pending") and is closed by the next hook in the caller (the yield
generator hook, ``run_in_threadpool``, the next ``solve_dependencies`` or
``request_params_to_args``) or by the exception it raised. Those hooks live
in different modules, so the shared state lives here.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from tracer.capture import clock, recorder
from tracer.capture.recorder import RawSpan
from tracer.safety import report

pending: ContextVar[RawSpan | None] = ContextVar("trace_request_pending_dep", default=None)


def settle(error: BaseException | None = None, attributes: dict[str, Any] | None = None) -> None:
    """Close the pending dependency span (its call just finished or raised); never raises."""
    span = pending.get()
    if span is None:
        return
    pending.set(None)
    if span.end >= 0:
        return
    try:
        rec = recorder.current.get()
        if error is not None and rec is not None:
            recorder.mark_error(rec, span, error)
        span.end = clock.now_ns()
        for key, value in (attributes or {}).items():
            span.set(key, value)
        if span.attributes is None or "dependency.kind" not in span.attributes:
            span.set("dependency.kind", "async")
    except Exception as exc:
        report("dependency hook", exc)
    recorder.parent.set(span.parent)
