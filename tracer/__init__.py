"""trace-request: every phase of a FastAPI request, recorded and drawn as a sequence diagram.

>>> import tracer
>>> tracer.instrument(app)                     # doctest: +SKIP
>>> with tracer.capture(app) as traces: ...    # doctest: +SKIP
"""

from __future__ import annotations

from tracer.capture.instrumentation import (
    TraceCollector,
    TraceRequestMiddleware,
    capture,
    instrument,
    is_instrumented,
    uninstrument,
)
from tracer.capture.trigger import trigger_token, verify_token
from tracer.model import PHASES, STEP_NAMES, Span, SpanEvent, Trace

__version__ = "0.1.0"

__all__ = [
    "PHASES",
    "STEP_NAMES",
    "Span",
    "SpanEvent",
    "Trace",
    "TraceCollector",
    "TraceRequestMiddleware",
    "__version__",
    "capture",
    "instrument",
    "is_instrumented",
    "trigger_token",
    "uninstrument",
    "verify_token",
]
