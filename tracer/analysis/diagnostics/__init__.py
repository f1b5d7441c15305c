"""Findings about one request, read from its :class:`~tracer.model.Trace` alone.

``diagnose(trace)`` runs one small detector per kind of problem; each family
lives in its own module (``failures``: why a 4xx/5xx happened or a background
task failed; ``queries``: N+1; ``outbound``: slow, failing or needlessly
sequential calls to other services; ``timing``: a blocked loop, waits, a
dominant step; ``fields``: unfiltered response fields). Detectors read the trace's
shared :class:`~tracer.analysis.index.TraceIndex` and the attributes
documented in docs/trace-model.md, so a trace loaded from JSON or OTLP is
diagnosed exactly like a live one.
"""

from __future__ import annotations

from tracer.analysis.diagnostics.failures import (
    background_failed,
    dependency_raised,
    parse_error,
    server_error,
    validation_failed,
)
from tracer.analysis.diagnostics.fields import is_secret_field, wrong_fields
from tracer.analysis.diagnostics.finding import (
    SEVERITIES,
    Detector,
    Finding,
    Severity,
    Thresholds,
)
from tracer.analysis.diagnostics.lifespan import lifespan_failed
from tracer.analysis.diagnostics.outbound import outbound_failed, outbound_slow, sequential_calls
from tracer.analysis.diagnostics.queries import n_plus_one, statement_shape
from tracer.analysis.diagnostics.timing import dominant_step, event_loop_blocked, waiting
from tracer.analysis.index import analyse
from tracer.model import Trace

#: Causes of a failed request first, then performance, then design.
DETECTORS: tuple[Detector, ...] = (
    validation_failed,
    dependency_raised,
    server_error,
    background_failed,
    outbound_failed,
    n_plus_one,
    outbound_slow,
    event_loop_blocked,
    waiting,
    dominant_step,
    sequential_calls,
    wrong_fields,
)
#: A startup or shutdown trace: no route, response or steps to judge, only its failure.
LIFESPAN_DETECTORS: tuple[Detector, ...] = (lifespan_failed,)


def diagnose(trace: Trace, thresholds: Thresholds | None = None) -> list[Finding]:
    """Every finding for ``trace``, causes of failure first."""
    if not trace.spans:
        return []
    limits = thresholds if thresholds is not None else Thresholds()
    index = analyse(trace)
    detectors = LIFESPAN_DETECTORS if trace.meta.get("kind") == "lifespan" else DETECTORS
    return [finding for detector in detectors for finding in detector(index, limits)]


__all__ = [
    "DETECTORS",
    "SEVERITIES",
    "Detector",
    "Finding",
    "Severity",
    "Thresholds",
    "diagnose",
    "is_secret_field",
    "parse_error",
    "statement_shape",
]
